"""SPEC.md's six endpoints under /meta/creative-engine/."""

urlpatterns: list = []
