"""The API's input limits: the JSON rules at their boundaries, the settings read from
the environment (nonsense stops start-up), and strict types in every input serializer."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework import serializers

import creative_engine.api.engine.cycles
import creative_engine.api.engine.generation
import creative_engine.api.engine.promote
import creative_engine.api.fragment_serializers
import creative_engine.api.master_serializers
import creative_engine.api.variants
from creative_engine.api import fields as strict
from creative_engine.api.parsers import InvalidJSON, load_json

ROOT = Path(__file__).resolve().parent.parent.parent


def _nested(depth):
    value = 0
    for _ in range(depth):
        value = {"a": value} if depth % 2 else [value]
    return value


# --- the JSON rules ------------------------------------------------------------------


def test_json_nested_exactly_to_the_limit_is_accepted(settings):
    settings.API_MAX_JSON_DEPTH = 32

    assert load_json(json.dumps(_nested(32))) == _nested(32)


def test_json_one_level_deeper_than_the_limit_is_refused(settings):
    settings.API_MAX_JSON_DEPTH = 32

    with pytest.raises(InvalidJSON, match="deeper than 32 levels") as refused:
        load_json(json.dumps(_nested(33)))

    assert refused.value.code == "json_too_deep"


def test_the_depth_limit_is_the_setting_in_force(settings):
    settings.API_MAX_JSON_DEPTH = 4

    load_json("[[[[1]]]]")
    with pytest.raises(InvalidJSON, match="deeper than 4 levels"):
        load_json("[[[[[1]]]]]")


@pytest.mark.parametrize(
    "text",
    ['"\\ud83d\\ude00"', '"caf\\u00e9"', '"\\u0001"', "1e308", "-0.0", '{"": ""}'],
)
def test_what_the_databases_can_store_is_accepted(text):
    assert load_json(text) == json.loads(text)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('"\\ud83d"', "invalid_text"),
        ('"\\ude00 after a low half"', "invalid_text"),
        ('{"k": "\\u0000"}', "invalid_text"),
        ("1e309", "number_out_of_range"),
        ("NaN", "parse_error"),
        ("[" * 5000 + "]" * 5000, "json_too_deep"),
    ],
)
def test_what_a_database_or_an_encoder_would_refuse_is_refused(text, code):
    with pytest.raises(InvalidJSON) as refused:
        load_json(text)

    assert refused.value.code == code


# --- settings ----------------------------------------------------------------------------


def _start(**env):
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.API_MAX_JSON_DEPTH, settings.API_MAX_BODY_BYTES, "
            "settings.API_MAX_NESTED_FRAGMENTS, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "true",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_limits_have_sane_defaults():
    started = _start()

    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == ["32", "1048576", "50", str(10 * 1024 * 1024)]


def test_the_limits_are_read_from_the_environment_and_django_reads_as_much():
    started = _start(
        API_MAX_JSON_DEPTH="16",
        API_MAX_BODY_BYTES=str(20 * 1024 * 1024),
        API_MAX_NESTED_FRAGMENTS="200",
    )

    assert started.returncode == 0, started.stderr
    # Django's own body limit is raised to the API's, never below it.
    assert started.stdout.split() == ["16", "20971520", "200", "20971520"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"API_MAX_JSON_DEPTH": "0"}, "API_MAX_JSON_DEPTH must be between 4 and 200"),
        ({"API_MAX_JSON_DEPTH": "5000"}, "API_MAX_JSON_DEPTH must be between"),
        ({"API_MAX_JSON_DEPTH": "deep"}, "API_MAX_JSON_DEPTH must be a whole number"),
        ({"API_MAX_BODY_BYTES": "100"}, "API_MAX_BODY_BYTES must be between"),
        ({"API_MAX_BODY_BYTES": "1.5MB"}, "API_MAX_BODY_BYTES must be a whole number"),
        ({"API_MAX_NESTED_FRAGMENTS": "0"}, "API_MAX_NESTED_FRAGMENTS must be between"),
        (
            {"API_MAX_NESTED_FRAGMENTS": "-3"},
            "API_MAX_NESTED_FRAGMENTS must be between",
        ),
    ],
)
def test_nonsense_limits_stop_start_up(env, message):
    started = _start(**env)

    assert started.returncode != 0
    assert "ImproperlyConfigured" in started.stderr
    assert message in started.stderr


# --- strict types ------------------------------------------------------------------------

STRICT = (
    strict.StrictCharField,
    strict.StrictRegexField,
    strict.StrictUUIDField,
    strict.StrictChoiceField,
    strict.StrictFloatField,
    strict.StrictIntegerField,
    strict.StrictDecimalField,
    strict.StrictBooleanField,
    strict.StrictJSONField,
    strict.PublicVideoURLField,
    serializers.FileField,  # a file is a file: nothing to coerce
    serializers.ListField,  # refuses a string or an object; its child is checked
    serializers.BaseSerializer,  # nested input; its fields are checked
)
API_MODULES = [
    creative_engine.api.fragment_serializers,
    creative_engine.api.master_serializers,
    creative_engine.api.variants,
    creative_engine.api.engine.cycles,
    creative_engine.api.engine.generation,
    creative_engine.api.engine.promote,
]
# Where a view validates input: `SomeSerializer(data=…)` or `(instance, data=…)`.
_VALIDATES = re.compile(r"(\w+Serializer)\(\s*(?:\w+,\s*)?data=")


def _input_serializers():
    """Every serializer a view of the API validates input with, found in the source
    (so a new one is checked without being listed here)."""
    names = {
        match
        for source in (ROOT / "creative_engine" / "api").rglob("*.py")
        for match in _VALIDATES.findall(source.read_text())
    }
    found = {}
    for module in API_MODULES:
        for name in names & set(vars(module)):
            found[name] = getattr(module, name)
    assert names == set(found), names - set(found)
    return sorted(found.items())


def _writable(field, path):
    if field.read_only:
        return
    yield path, field
    if isinstance(field, (serializers.ListSerializer, serializers.ListField)):
        yield from _writable(field.child, f"{path}[]")
    elif isinstance(field, serializers.Serializer):
        for name, child in field.fields.items():
            yield from _writable(child, f"{path}.{name}")


def test_every_writable_field_of_every_api_serializer_is_strict():
    loose = [
        f"{path}: {type(field).__name__}"
        for name, serializer_class in _input_serializers()
        for field_name, field in serializer_class().fields.items()
        for path, field in _writable(field, f"{name}.{field_name}")
        if not isinstance(field, STRICT)
    ]

    assert len(_input_serializers()) >= 11
    assert loose == []


def test_generated_model_fields_are_strict_too():
    from creative_engine.api.fragment_serializers import FragmentSerializer

    generated = FragmentSerializer().fields

    assert isinstance(generated["start_time"], strict.StrictFloatField)
    assert isinstance(generated["label"], strict.StrictCharField)
    assert isinstance(generated["approved"], strict.StrictBooleanField)


def test_free_text_input_cannot_be_declared_without_a_maximum_length():
    with pytest.raises(TypeError, match="max_length"):
        strict.StrictCharField()
