"""A chapter's claims, declared in a YAML file beside it (``chapters/ferrari/fig6.claims.yml``).

The declarations are data: what the paper says, our test, its target and tolerance or bounds,
the control on which the test must fail. Keeping them in one file per chapter, committed before
the numbers exist, makes every threshold change a reviewable diff of that file, and keeps the
chapter's Python to the computation, the figure and the ``ledger.check`` lines.

Format::

    vars:                     # optional: shared strings, themselves templates
      cl: the classical ensemble (same run protocol)
    claims:
      V-grows:                # the row's key (stable: the regression check matches on it)
        figure: Fig. 6(a)
        claim: change of V_ℓ across the bulk (OLS)
        paper: V_ℓ increases along the chain
        lower: 0.05
        control: "{cl}"
      current-{name}:         # one row per value of the loop variables
        foreach: {name: [I, II, III]}
        ...

Every string is a :meth:`str.format` template over the chapter's context (the keyword
arguments of :meth:`Ledger.declare_from`), the ``vars`` and the ``foreach`` variables; write a
literal brace as ``{{`` or ``}}``. A numeric field (``target``, ``tolerance``, ``lower``,
``upper``) may be a template too (``lower: "{L}"``). ``foreach`` maps loop variables to
equal-length lists that are zipped; a string instead of a list names a context variable
holding the list. Any other field is a keyword of :meth:`Ledger.declare`.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

NUMERIC = ("target", "tolerance", "lower", "upper")
FIELDS = ("figure", "claim", "paper", "kind", *NUMERIC, "judged", "control", "source", "exact",
          "posthoc", "note")
SUFFIX = ".claims.yml"


def claims_file(chapter: str, root: Path | None = None) -> Path:
    """The declarations file of ``chapter`` (``"ferrari/fig6"`` → ``chapters/ferrari/fig6.claims.yml``)."""
    from .notebooks import CHAPTERS_DIR, project_root

    return (root or project_root()) / CHAPTERS_DIR / f"{chapter}{SUFFIX}"


def _format(value: Any, scope: Mapping[str, Any], where: str) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return value.format(**scope)
    except KeyError as e:
        raise ValueError(f"{where}: {e.args[0]!r} is neither a context variable, a var nor a "
                         "foreach variable (pass it to declare_from)") from None
    except (IndexError, ValueError, AttributeError) as e:
        raise ValueError(f"{where}: cannot format {value!r}: {e}") from None


def _loops(spec: Any, context: Mapping[str, Any], where: str) -> Iterator[dict[str, Any]]:
    if spec is None:
        yield {}
        return
    if not isinstance(spec, Mapping) or not spec:
        raise ValueError(f"{where}: foreach must map loop variables to lists")
    columns = {}
    for name, values in spec.items():
        if isinstance(values, str):
            if values not in context:
                raise ValueError(f"{where}: foreach {name}: {values!r} is not a context variable")
            values = context[values]
        columns[name] = list(values)
    lengths = {len(v) for v in columns.values()}
    if len(lengths) != 1:
        raise ValueError(f"{where}: the foreach lists have different lengths "
                         f"{ {k: len(v) for k, v in columns.items()} }")
    for row in zip(*columns.values()):
        yield dict(zip(columns, row))


def expand(spec: Mapping[str, Any], context: Mapping[str, Any], source: str = "claims") -> Iterator[tuple[str, dict[str, Any]]]:
    """``(key, declare keywords)`` for every row of a parsed declarations file."""
    if not isinstance(spec, Mapping) or set(spec) - {"vars", "claims"} or "claims" not in spec:
        raise ValueError(f"{source}: expected a mapping with 'claims' (and optionally 'vars')")
    scope = dict(context)
    for name, value in (spec.get("vars") or {}).items():
        scope[name] = _format(value, scope, f"{source}: var {name!r}")
    for template, fields in spec["claims"].items():
        where = f"{source}: claim {template!r}"
        if not isinstance(fields, Mapping):
            raise ValueError(f"{where}: expected a mapping of fields")
        unknown = set(fields) - set(FIELDS) - {"foreach"}
        if unknown:
            raise ValueError(f"{where}: unknown fields {sorted(unknown)}; allowed: {', '.join(FIELDS)}, foreach")
        for loop in _loops(fields.get("foreach"), scope, where):
            local = {**scope, **loop}
            key = _format(str(template), local, where)
            kw = {k: _format(v, local, f"{where}, {k}") for k, v in fields.items() if k != "foreach"}
            for k in NUMERIC:
                if isinstance(kw.get(k), str):
                    try:
                        kw[k] = float(kw[k])
                    except ValueError:
                        raise ValueError(f"{where}: {k} = {kw[k]!r} is not a number") from None
            yield key, kw


class _UniqueKeys(yaml.SafeLoader):
    """A YAML loader that rejects a repeated mapping key (PyYAML keeps the last one silently:
    a claim written twice would vanish)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"repeated key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load(path: Path, context: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The expanded declarations of the file at ``path``."""
    if not path.is_file():
        raise ValueError(f"no claims file {path}")
    try:
        spec = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeys)
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: not valid YAML: {e}") from None
    return list(expand(spec, context, source=path.name))
