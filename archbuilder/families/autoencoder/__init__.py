"""The `autoencoder` family: [noise] -> encoder -> code [-> penalty] -> decoder -> reconstruction [+ head]."""

from archbuilder.families import Family
from archbuilder.families.autoencoder import spec
from archbuilder.families.autoencoder.plan import plan
from archbuilder.families.autoencoder.questions import questions
from archbuilder.families.autoencoder.schema import schema

FAMILY = Family(
    name="autoencoder",
    description="an encoder, a code and a decoder that reconstructs the input: plain, sparse, contractive or "
                "denoising, optionally with a classifier head on the code",
    schema=schema,
    fill=spec.fill,
    concretize=spec.concretize,
    outputs=spec.outputs,
    checks=spec.checks,
    concrete_checks=spec.concrete_checks,
    plan=plan,
    questions=questions,
    builder="archbuilder.families.autoencoder.build",
)
