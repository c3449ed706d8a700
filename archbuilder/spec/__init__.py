"""Specs: text -> strict JSON -> overrides -> schema -> defaults -> checks -> Spec -> Plan. No backend.

`load.load_spec` is the whole pipeline; `normalize` fills defaults and makes a spec
concrete, `checks` and `schema_errors` find every problem, `plan` computes shapes
and parameter counts, `schema` generates the JSON Schema. Each family's own part
comes from `archbuilder.families`.
"""
