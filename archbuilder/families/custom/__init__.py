"""The `custom` family: any stack or graph of allow-listed Keras layers, named by their class."""

from archbuilder.families import Family
from archbuilder.families.custom import spec
from archbuilder.families.custom.plan import plan
from archbuilder.families.custom.questions import questions

FAMILY = Family(
    name="custom",
    description="any stack or graph of allow-listed Keras layers (`type` is the keras.layers class name)",
    schema=spec.schema,
    fill=spec.fill,
    concretize=spec.concretize,
    outputs=spec.outputs,
    checks=spec.checks,
    plan=plan,
    questions=questions,
    builder="archbuilder.families.custom.build",
    hidden_activation=False,
    reads_integers=lambda doc: True,  # its own layers say what they take (an Embedding, a Rescaling)
)
