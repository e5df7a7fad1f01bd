"""SPEC.md's six endpoints under /meta/creative-engine/, with its JSON shapes, by
concern: the cycle (status, run, history), generation (generate, a master's
variants) and promotion (promote). Thin views: parse the input, call one selector or
service, shape the output."""
