"""The `cnn` family: [backbone] -> conv blocks -> global pool | flatten -> dense -> output."""

from archbuilder.families import Family
from archbuilder.families.cnn import spec
from archbuilder.families.cnn.plan import plan
from archbuilder.families.cnn.questions import questions

FAMILY = Family(
    name="cnn",
    description="convolution blocks (1-D, 2-D or 3-D by the input's rank), then dense layers and the output",
    schema=spec.schema,
    fill=spec.fill,
    concretize=spec.concretize,
    outputs=spec.outputs,
    checks=spec.checks,
    plan=plan,
    questions=questions,
    builder="archbuilder.families.cnn.build",
    files=spec.files,
)
