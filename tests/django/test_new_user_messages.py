"""What a new user reads when drf-spectacular cannot type a ``SerializerMethodField`` (no type
hint): its warning names the serializer and the project's own view, never a class the project
does not have."""

from __future__ import annotations

from projects import SERIALIZERS

UNTYPED = SERIALIZERS.replace(
    '        fields = ["id", "title", "venue", "starts", "categories"]\n',
    '        fields = ["id", "title", "venue", "starts", "categories", "headline"]\n\n'
    "    def get_headline(self, obj):\n"
    "        return obj.title.upper()\n",
).replace(
    "    categories = CategorySerializer(many=True, read_only=True)\n\n    class Meta:\n"
    "        model = Show",
    "    categories = CategorySerializer(many=True, read_only=True)\n"
    "    headline = serializers.SerializerMethodField()\n\n    class Meta:\n        model = Show",
)


def test_drf_spectacular_warnings_name_only_the_projects_classes(
    django_project, mirror_options
) -> None:
    project = django_project(serializers=UNTYPED)
    done = project.billig("contracts", "update", *mirror_options)
    assert done.returncode == 0, done.stdout + done.stderr
    assert 'unable to resolve type hint for function "get_headline"' in done.stderr
    assert "[ShowSerializer (as billig pins it) > ShowSerializer]" in done.stderr
    assert "ShapeView" not in done.stderr
