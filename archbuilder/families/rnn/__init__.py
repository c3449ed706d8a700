"""The `rnn` family: [embedding] -> SimpleRNN / LSTM / GRU stack -> [sequence pool] -> dense -> output."""

from archbuilder.families import Family
from archbuilder.families.rnn import spec
from archbuilder.families.rnn.plan import plan
from archbuilder.families.rnn.questions import questions

FAMILY = Family(
    name="rnn",
    description="a recurrent stack (SimpleRNN, LSTM or GRU, optionally bidirectional), then dense layers",
    schema=spec.schema,
    fill=spec.fill,
    concretize=spec.concretize,
    outputs=spec.outputs,
    checks=spec.checks,
    plan=plan,
    questions=questions,
    builder="archbuilder.families.rnn.build",
    reads_integers=lambda doc: bool(doc.get("embedding")),
)
