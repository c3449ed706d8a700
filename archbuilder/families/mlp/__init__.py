"""The `mlp` family: a dense stack for tabular and vector data."""

from archbuilder.families import Family
from archbuilder.families.mlp import spec
from archbuilder.families.mlp.plan import plan
from archbuilder.families.mlp.questions import questions

FAMILY = Family(
    name="mlp",
    description="a stack of dense layers (batch norm, dropout, residual per layer) for tabular and vector data",
    schema=spec.schema,
    fill=spec.fill,
    concretize=spec.concretize,
    outputs=spec.outputs,
    checks=spec.checks,
    plan=plan,
    questions=questions,
    builder="archbuilder.families.mlp.build",
)
