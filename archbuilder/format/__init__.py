"""The spec format's shared vocabulary, used by every family: no backend, no family names.

Strict JSON (`jsonfile`) and its paths (`jsonpath`), search spaces, the shared
defaults, layer items and outputs, the schema toolkit (`schema/`), and the static
planner's steps and shape arithmetic (`planner`, `shapes`).
"""
