"""Validate rendered Kubernetes manifests against the cluster version's OpenAPI schema.

The offline preview renders every Kubernetes object a Pulumi program would create to a plain
manifest (a ``dict`` as ``kubectl apply -f`` takes it). :class:`KubeSchemaValidator` checks such a
manifest against the JSON schema of the configured Kubernetes minor version, using the schema files
bundled in the ``kubernetes-validate`` package (``kubernetes-json-schema/v<X.Y.Z>-local[-strict]/``).

Differences from ``kubernetes_validate.validate``:

* the schemas are read once per version and one validator is built per (apiVersion, kind) and
  reused (``kubernetes_validate`` re-reads the schema files on every call);
* a manifest is first checked by a verdict-only check compiled from the same schema
  (:mod:`.schema_verdict`, several times faster); only one it rejects goes through
  ``jsonschema``, which finds its errors;
* **all** errors of an object are reported, each with the dotted path of the offending field
  (``spec.template.spec.containers[0].ports[0].containerPort``), not just the first one;
* an unknown minor version is an error (``kubernetes_validate`` silently falls back to an older one).

Only ``_definitions.json`` of the version folder is loaded: it holds every type of that version
(the per-kind files in the folder are copies of its entries) and each top-level kind carries its
``x-kubernetes-group-version-kind``, which is what maps an (apiVersion, kind) to its schema.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, ClassVar, Final

# jsonschema's types come from the pinned types-jsonschema stubs; its objects are still wrapped
# in typed helpers below.
import jsonschema.validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .schema_verdict import Check, CompiledDefinitions, UnsupportedSchemaError

__all__ = [
    "KubeSchemaValidator",
    "SchemaError",
    "UnsupportedKubernetesVersionError",
]

_SCHEMA_PACKAGE: Final = "kubernetes_validate"
_SCHEMA_ROOT: Final = "kubernetes-json-schema"
_DEFINITIONS_FILE: Final = "_definitions.json"
# Folder names look like ``v1.31.0-local`` and ``v1.31.0-local-strict``.
_FOLDER_RE: Final = re.compile(r"^v(\d+)\.(\d+)\.(\d+)-local(-strict)?$")
_VERSION_RE: Final = re.compile(r"^v?(\d+)\.(\d+)(?:\.\d+)?$")
_PLAIN_KEY_RE: Final = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")
_JSON_TYPE_ORDER: Final = ("object", "array", "string", "integer", "number", "boolean", "null")


@dataclass(frozen=True, order=True)
class SchemaError:
    """One schema violation in one manifest. Sorting orders by ``path``, then ``message``."""

    path: str
    """Dotted path of the offending field, e.g. ``spec.template.spec.containers[0].name``;
    ``""`` for the object itself. Map keys that are not plain identifiers are quoted:
    ``metadata.labels["app.kubernetes.io/name"]``."""
    message: str
    """What is wrong, e.g. ``expected integer, got string "http"``."""

    def __str__(self) -> str:
        return f"{self.path or '(object)'}: {self.message}"


class UnsupportedKubernetesVersionError(ValueError):
    """The requested Kubernetes minor version has no bundled schema."""

    def __init__(self, version: str, supported: Iterable[str]) -> None:
        self.version = version
        self.supported: tuple[str, ...] = tuple(supported)
        super().__init__(
            f"no bundled Kubernetes schema for version {version!r} (kubernetes-validate package); "
            f"supported versions: {', '.join(self.supported) or 'none'}"
        )


def _schema_root() -> Traversable:
    return resources.files(_SCHEMA_PACKAGE).joinpath(_SCHEMA_ROOT)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _bundled_folders(strict: bool) -> dict[str, str]:
    """Minor version ("1.31") -> folder name, for the given schema flavour."""
    found: dict[str, tuple[int, str]] = {}
    for entry in _schema_root().iterdir():
        match = _FOLDER_RE.match(entry.name)
        if match is None or not entry.is_dir() or bool(match.group(4)) != strict:
            continue
        minor = f"{int(match.group(1))}.{int(match.group(2))}"
        patch = int(match.group(3))
        if minor not in found or patch > found[minor][0]:
            found[minor] = (patch, entry.name)
    return {minor: found[minor][1] for minor in sorted(found, key=_version_key)}


def _normalise_version(version: str) -> str:
    match = _VERSION_RE.match(version.strip())
    if match is None:
        raise ValueError(
            f"invalid Kubernetes version {version!r}: expected 'MAJOR.MINOR' such as '1.31'"
        )
    return f"{int(match.group(1))}.{int(match.group(2))}"


def _one_of_tolerating_null(
    validator: Any, one_of: Any, instance: Any, schema: Any
) -> Iterator[Any]:
    """``oneOf`` that accepts ``null`` when every alternative accepts it.

    The generated schemas write IntOrString / Quantity as
    ``oneOf: [{type: [string, null]}, {type: [integer, null]}]``, so a plain ``oneOf`` rejects
    ``null`` ("valid under each of"), although every other optional field accepts ``null`` and the
    API server reads ``null`` as "unset". Treat it like the other optional fields.
    """
    if instance is None and all(validator.evolve(schema=sub).is_valid(None) for sub in one_of):
        return
    yield from _BASE_ONE_OF(validator, one_of, instance, schema)


_BASE_VALIDATOR: Any = jsonschema.validators.Draft202012Validator
_BASE_ONE_OF: Any = _BASE_VALIDATOR.VALIDATORS["oneOf"]
_Validator: Any = jsonschema.validators.extend(_BASE_VALIDATOR, {"oneOf": _one_of_tolerating_null})


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _show(value: Any) -> str:
    if isinstance(value, Mapping):
        text = "an object"
    elif isinstance(value, list | tuple):
        text = "an array"
    else:
        try:
            text = json.dumps(value)
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _got(value: Any) -> str:
    """``string "http"``, ``integer 5``, ``null``, ``an object``."""
    kind = _json_type(value)
    if kind in ("object", "array"):
        return _show(value)
    if kind == "null":
        return "null"
    return f"{kind} {_show(value)}"


def _format_path(parts: Iterable[str | int]) -> str:
    out: list[str] = []
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _PLAIN_KEY_RE.match(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{json.dumps(part)}]")
    return "".join(out)


def _types_of(type_keyword: Any) -> list[str]:
    types = [type_keyword] if isinstance(type_keyword, str) else list(type_keyword)
    return [t for t in _JSON_TYPE_ORDER if t in types] + [
        t for t in types if t not in _JSON_TYPE_ORDER
    ]


def _expected(types: Iterable[str]) -> str:
    wanted = [t for t in types if t != "null"] or ["null"]
    # "integer or number" reads oddly: number already covers integer.
    if "number" in wanted and "integer" in wanted:
        wanted.remove("integer")
    return " or ".join(wanted)


class KubeSchemaValidator:
    """Validates manifests against one Kubernetes minor version's bundled OpenAPI schema.

    Get one with :meth:`for_version` (cached per version and flavour). Validators for each
    (apiVersion, kind) are built on first use and reused. Not thread-safe.
    """

    _instances: ClassVar[dict[tuple[str, bool], KubeSchemaValidator]] = {}
    _folders: ClassVar[dict[bool, dict[str, str]]] = {}

    def __init__(self, version: str, strict: bool, folder: Traversable) -> None:
        """Prefer :meth:`for_version`; this loads ~1.3 MB of JSON."""
        self.version = version
        self.strict = strict
        definitions_file = folder.joinpath(_DEFINITIONS_FILE)
        contents: dict[str, Any] = json.loads(definitions_file.read_text(encoding="utf-8"))
        self._base_uri: str = contents["$id"]
        definitions: dict[str, Any] = contents["$defs"]
        resource: Resource[Any] = Resource.from_contents(
            contents, default_specification=DRAFT202012
        )
        self._registry: Registry[Any] = Registry().with_resource(self._base_uri, resource)
        # (apiVersion, kind) -> definition name,
        # e.g. ("apps/v1", "Deployment") -> "io.k8s.api.apps.v1.Deployment".
        self._kinds: dict[tuple[str, str], str] = {}
        self._groups: set[str] = set()
        # apiVersion -> its own kinds; excludes DeleteOptions / WatchEvent, which every
        # group/version ever served lists (incl. removed ones such as policy/v1beta1).
        self._served: dict[str, set[str]] = {}
        for name, definition in definitions.items():
            gvks = definition.get("x-kubernetes-group-version-kind", ())
            for gvk in gvks:
                group, api_version_part, kind = gvk["group"], gvk["version"], gvk["kind"]
                api_version = f"{group}/{api_version_part}" if group else api_version_part
                self._kinds[(api_version, kind)] = name
                self._groups.add(group)
                if len(gvks) == 1:
                    self._served.setdefault(api_version, set()).add(kind)
        # id(definition dict) -> short type name ("DeploymentSpec"), to name types in messages.
        self._type_names: dict[int, str] = {
            id(definition): name.rsplit(".", 1)[-1] for name, definition in definitions.items()
        }
        self._definitions = definitions  # keeps the objects behind _type_names' ids alive
        self._validators: dict[str, Any] = {}
        # Verdict-only checks tried first (see schema_verdict); None: the kind has none.
        self._compiled = CompiledDefinitions(self._base_uri, definitions)
        self._verdicts: dict[str, Check | None] = {}

    # ----------------------------------------------------------------------------- construction

    @classmethod
    def supported_versions(cls, strict: bool = True) -> list[str]:
        """Minor versions with a bundled schema, oldest first, e.g. ``["1.25", ..., "1.37"]``."""
        return list(cls._folders_for(strict))

    @classmethod
    def for_version(cls, version: str, strict: bool = True) -> KubeSchemaValidator:
        """The (cached) validator for a Kubernetes version such as ``"1.31"``.

        ``"v1.31"`` and ``"1.31.4"`` are accepted too (only the minor version matters).
        ``strict`` selects the ``-strict`` schema flavour, which rejects unknown fields.

        Raises :class:`UnsupportedKubernetesVersionError` (a ``ValueError``) if the minor
        version has no bundled schema, and ``ValueError`` if ``version`` is malformed.
        """
        minor = _normalise_version(version)
        key = (minor, strict)
        cached = cls._instances.get(key)
        if cached is not None:
            return cached
        folders = cls._folders_for(strict)
        if minor not in folders:
            raise UnsupportedKubernetesVersionError(minor, folders)
        validator = cls(minor, strict, _schema_root().joinpath(folders[minor]))
        cls._instances[key] = validator
        return validator

    @classmethod
    def _folders_for(cls, strict: bool) -> dict[str, str]:
        if strict not in cls._folders:
            cls._folders[strict] = _bundled_folders(strict)
        return cls._folders[strict]

    # ----------------------------------------------------------------------------------- queries

    def has_schema(self, api_version: str, kind: str) -> bool:
        """Whether this Kubernetes version has a built-in schema for (apiVersion, kind).

        ``False`` for custom resources (``autoscaling.k8s.io/v1`` VerticalPodAutoscaler,
        ``karpenter.sh/v1`` NodePool, ...), for which :meth:`validate` returns ``[]``, and also
        for kinds / versions a built-in API group does not serve (``policy/v1beta1``
        PodDisruptionBudget on 1.31), for which :meth:`validate` reports an error.
        """
        return (api_version, kind) in self._kinds

    def is_builtin_group(self, api_version: str) -> bool:
        """Whether the API group of ``api_version`` is built into this Kubernetes version (``""``
        for the core group); False for custom resources."""
        group = api_version.rpartition("/")[0]
        return group in self._groups

    def served_versions(self, group: str, kind: str) -> list[str]:
        """The ``apiVersion`` values under which this Kubernetes version serves ``kind`` of
        ``group`` (``""`` for core), e.g. ``["flowcontrol.apiserver.k8s.io/v1",
        "flowcontrol.apiserver.k8s.io/v1beta3"]`` on 1.31."""
        prefix = f"{group}/" if group else ""
        return sorted(
            api
            for api, kinds in self._served.items()
            if kind in kinds and (api.startswith(prefix) if group else "/" not in api)
        )

    def validate(self, obj: Mapping[str, Any]) -> list[SchemaError]:
        """Every schema violation of one manifest, sorted by path then message.

        ``[]`` means valid, or a custom resource (see :meth:`has_schema`).
        """
        return self._validate(obj, fast=True)

    def validate_with_jsonschema(self, obj: Mapping[str, Any]) -> list[SchemaError]:
        """:meth:`validate` without the compiled check: ``jsonschema`` alone decides (what the
        comparison test and the benchmark hold the fast path against)."""
        return self._validate(obj, fast=False)

    def _validate(self, obj: Mapping[str, Any], *, fast: bool) -> list[SchemaError]:
        if not isinstance(obj, Mapping):
            raise TypeError(f"a manifest must be a dict, got {type(obj).__name__}")
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        header = [
            SchemaError(
                field,
                "required field is missing"
                if value is None
                else f"expected a non-empty string, got {_got(value)}",
            )
            for field, value in (("apiVersion", api_version), ("kind", kind))
            if not isinstance(value, str) or not value
        ]
        if header:
            return sorted(header)
        assert isinstance(api_version, str) and isinstance(kind, str)
        name = self._kinds.get((api_version, kind))
        if name is None:
            return self._unknown_kind(api_version, kind)
        if fast and self.is_valid_fast(name, obj):
            return []
        validator = self._validators.get(name)
        if validator is None:
            validator = _Validator(
                {"$ref": f"{self._base_uri}#/$defs/{name}"}, registry=self._registry
            )
            self._validators[name] = validator
        found: set[SchemaError] = set()
        for error in validator.iter_errors(obj):
            found.update(self._convert(error))
        return sorted(found)

    # ---------------------------------------------------------------------------------- internals

    def definition_of(self, api_version: str, kind: str) -> str | None:
        """The schema definition name of a built-in (apiVersion, kind), e.g.
        ``io.k8s.api.apps.v1.Deployment``; None when it has none."""
        return self._kinds.get((api_version, kind))

    def is_valid_fast(self, name: str, obj: Mapping[str, Any]) -> bool:
        """Whether the compiled check of definition ``name`` accepts ``obj`` (False when it
        rejects it or the definition has no compiled check: then ``jsonschema`` decides)."""
        if name not in self._verdicts:
            try:
                self._verdicts[name] = self._compiled.check_for(name)
            except UnsupportedSchemaError:
                self._verdicts[name] = None
        check = self._verdicts[name]
        return check is not None and check(obj)

    def _unknown_kind(self, api_version: str, kind: str) -> list[SchemaError]:
        group = api_version.rpartition("/")[0]
        if group not in self._groups:
            return []  # a custom resource: no built-in schema, not an error
        # A built-in API group: a kind or version it does not serve is a mistake, not a CRD.
        elsewhere = sorted(
            api for api, kinds in self._served.items() if kind in kinds and api != api_version
        )
        served = sorted(self._served.get(api_version, ()))
        if not served:
            message = (
                f"apiVersion {api_version!r} is not served by Kubernetes {self.version} "
                f"(removed or not yet available)"
            )
            if elsewhere:
                message += f"; {kind} is served by {', '.join(elsewhere)}"
            return [SchemaError("apiVersion", message)]
        message = f"{api_version} has no kind {kind!r} in Kubernetes {self.version}"
        if elsewhere:
            message += f"; {kind} is served by {', '.join(elsewhere)}"
        else:
            hint = [k for k in served if k.lower() == kind.lower()] or difflib.get_close_matches(
                kind, served, n=1, cutoff=0.6
            )
            if hint:
                message += f"; did you mean {hint[0]!r}?"
        return [SchemaError("kind", message)]

    def _type_name(self, schema: Any) -> str:
        return self._type_names.get(id(schema), "")

    def _convert(self, error: Any) -> list[SchemaError]:
        """One jsonschema error -> the SchemaErrors a human wants to read."""
        parts: list[str | int] = list(error.absolute_path)
        keyword: str = error.validator
        instance: Any = error.instance
        schema: Any = error.schema
        where = self._type_name(schema)
        suffix = f" ({where})" if where else ""

        if keyword == "additionalProperties" and isinstance(instance, Mapping):
            known = list(schema.get("properties", {}))
            out = []
            for key in instance:
                if key in known:
                    continue
                hint = difflib.get_close_matches(str(key), known, n=1, cutoff=0.75)
                message = f"unknown field {key!r}{suffix}"
                if hint:
                    message += f"; did you mean {hint[0]!r}?"
                out.append(SchemaError(_format_path([*parts, str(key)]), message))
            return out
        if keyword == "required" and isinstance(instance, Mapping):
            return [
                SchemaError(_format_path([*parts, field]), f"required field is missing{suffix}")
                for field in error.validator_value
                if field not in instance
            ]
        if keyword == "type":
            expected = _expected(_types_of(error.validator_value))
            return [SchemaError(_format_path(parts), f"expected {expected}, got {_got(instance)}")]
        if keyword == "enum":
            allowed = ", ".join(json.dumps(v) for v in error.validator_value)
            return [
                SchemaError(_format_path(parts), f"must be one of {allowed}, got {_got(instance)}")
            ]
        if keyword in ("oneOf", "anyOf"):
            return self._convert_alternatives(error, parts, where)
        return [SchemaError(_format_path(parts), error.message)]

    def _convert_alternatives(
        self, error: Any, parts: list[str | int], where: str
    ) -> list[SchemaError]:
        context: list[Any] = list(error.context or ())
        path = _format_path(parts)
        label = f" ({where})" if where else ""
        if not context:  # oneOf matched more than one alternative
            return [SchemaError(path, f"ambiguous value {_got(error.instance)}: {error.message}")]
        if all(sub.validator == "type" and not sub.relative_path for sub in context):
            # The IntOrString / Quantity shape: alternatives that differ only by type.
            types: list[str] = []
            for sub in context:
                types.extend(t for t in _types_of(sub.validator_value) if t not in types)
            expected = _expected(_types_of(types))
            return [SchemaError(path, f"expected {expected}{label}, got {_got(error.instance)}")]
        # Otherwise report the alternative that got furthest into the value (deepest errors).
        branches: dict[Any, list[Any]] = {}
        for sub in context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        best = max(
            branches.values(),
            key=lambda subs: (max(len(s.absolute_path) for s in subs), -len(subs)),
        )
        out: list[SchemaError] = []
        for sub in best:
            out.extend(self._convert(sub))
        return out
