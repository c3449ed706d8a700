"""Figures without the user's plotting state: matplotlib's object API, and results that show themselves.

Every figure archbuilder draws is a `matplotlib.figure.Figure` on its own Agg canvas
(`new_figure`): no `pyplot`, no `matplotlib.use`, so a notebook's inline backend and
its open figures stay as the user left them and `plt.show()` keeps working.

The figures are `InlineFigure`s, which know how to show themselves in a notebook
(`_repr_png_`) without pyplot, so `result.plot()` as the last line of a cell draws.
`Shown` gives the results of `train`, `tune` and `compare` the same: the summary as
HTML, then each of their figures as an `image/png` output.
"""

import base64
import html
import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["InlineFigure", "new_figure", "png_bytes", "Shown", "html_table"]

DPI = 110


class InlineFigure(Figure):
    """A `Figure` that a notebook shows as a PNG when it is a cell's value, without pyplot's inline backend."""

    def _repr_png_(self):
        return png_bytes(self)


def new_figure(width, height):
    """A figure of `width` x `height` inches on its own Agg canvas, outside pyplot."""
    fig = InlineFigure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig):
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return buffer.getvalue()


def html_table(rows):
    """`[(label, value), ...]` as a two-column HTML table (values escaped)."""
    cells = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                    f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


class Shown:
    """What a result needs to show itself in a notebook: a summary and figures.

    A subclass defines `_repr_html_()` (the summary) and `figures()` (PNG bytes, in
    order). In IPython, the summary is shown as HTML and each figure as its own
    `image/png` output; `_repr_html_` alone (other HTML front ends) gets the figures
    inline as images.
    """

    def figures(self):
        return []

    def _summary_html(self):
        return ""

    def _repr_html_(self):
        images = "".join(f"<img src='data:image/png;base64,{base64.b64encode(png).decode()}'/>"
                         for png in self.figures())
        return self._summary_html() + images

    def _ipython_display_(self):
        from IPython.display import HTML
        from IPython.display import Image
        from IPython.display import display

        display(HTML(self._summary_html()))
        for png in self.figures():
            display(Image(data=png, format="png"))
