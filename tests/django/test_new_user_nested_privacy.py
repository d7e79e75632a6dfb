"""A serializer that nests a Billig model through DRF's ``depth`` (or a read-only nested
serializer): drf-spectacular declares the nested object as ``allOf: [{...}]``. Forbidden keys
inside it (``num``, ``num_sold``) are refused when pinning, as at the top level, rather than
pinned silently and caught only by the next check."""

from __future__ import annotations

from projects import SERIALIZERS

DEEP = """

class PriceDeepSerializer(serializers.ModelSerializer):
    class Meta:
        model = Price
        fields = ["id", "label", "category"]
        depth = 1
"""


def test_a_forbidden_key_nested_by_depth_is_refused_when_pinning(
    django_project, mirror_options
) -> None:
    project = django_project(serializers=SERIALIZERS + DEEP)
    done = project.billig("contracts", "update", *mirror_options)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "refusing to pin a forbidden field: category.num" in done.stderr
    assert not (project.contracts / "shapes" / "PriceDeepSerializer.json").exists()
