"""National ID numbers in a pack's format: validation and sample generation."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from importlib import import_module
from typing import Any

try:  # Python 3.11+: the regex parser lives here
    import re._parser as sre_parse  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover
    import sre_parse  # type: ignore[no-redef]

from stdnum import damm, luhn, verhoeff


def _mod11_valid(digits: str) -> bool:
    if len(digits) < 2:
        return False
    weights = range(len(digits), 1, -1)
    total = sum(int(d) * w for d, w in zip(digits[:-1], weights, strict=False))
    check = (11 - total % 11) % 11
    return check != 10 and check == int(digits[-1])


def _mod11_digit(body: str) -> str | None:
    weights = range(len(body) + 1, 1, -1)
    total = sum(int(d) * w for d, w in zip(body, weights, strict=False))
    check = (11 - total % 11) % 11
    return None if check == 10 else str(check)


CHECKS = {
    "luhn": (luhn.is_valid, luhn.calc_check_digit),
    "verhoeff": (verhoeff.is_valid, verhoeff.calc_check_digit),
    "damm": (damm.is_valid, damm.calc_check_digit),
    "mod11": (_mod11_valid, _mod11_digit),
}


@dataclass(frozen=True)
class NationalIdFormat:
    stdnum: str | None = None
    pattern: str | None = None
    check: str | None = None

    @classmethod
    def from_pack(cls, spec: dict[str, Any]) -> NationalIdFormat:
        return cls(stdnum=spec.get("stdnum"), pattern=spec.get("pattern"), check=spec.get("check"))

    def normalise(self, value: str) -> str:
        value = value.strip().upper()
        if self.stdnum:
            module = import_module(f"stdnum.{self.stdnum}")
            return module.compact(value)
        return value

    def is_valid(self, value: str) -> bool:
        if not isinstance(value, str) or not value.strip():
            return False
        value = self.normalise(value)
        if self.stdnum:
            module = import_module(f"stdnum.{self.stdnum}")
            if not module.is_valid(value):
                return False
        if self.pattern and not re.fullmatch(self.pattern, value):
            return False
        if self.check:
            digits = "".join(ch for ch in value if ch.isdigit())
            try:
                return bool(CHECKS[self.check][0](digits))
            except Exception:  # stdnum raises on malformed input
                return False
        return True

    def samples(self, count: int, seed: int = 0) -> list[str]:
        """``count`` distinct valid numbers, reproducible for a seed."""
        rng = random.Random(seed)  # noqa: S311 - sample data, not secrets
        found: list[str] = []
        seen: set[str] = set()
        attempts = 0
        while len(found) < count:
            attempts += 1
            if attempts > count * 200 + 1000:
                raise ValueError("could not generate enough distinct valid numbers for this format")
            candidate = self._candidate(rng)
            if candidate is None or candidate in seen or not self.is_valid(candidate):
                continue
            seen.add(candidate)
            found.append(candidate)
        return found

    def _candidate(self, rng: random.Random) -> str | None:
        if self.pattern:
            text = _generate(sre_parse.parse(self.pattern), rng)
        elif self.stdnum:
            module = import_module(f"stdnum.{self.stdnum}")
            length = len(module.compact(getattr(module, "__doc__", "") and _example_from_doc(module) or "0" * 10))
            text = "".join(rng.choice("0123456789") for _ in range(length))
        else:
            return None
        if self.check:
            digit_positions = [i for i, ch in enumerate(text) if ch.isdigit()]
            if not digit_positions:
                return None
            digits = "".join(text[i] for i in digit_positions[:-1])
            check = CHECKS[self.check][1](digits)
            if check is None or not str(check).isdigit():
                return None
            last = digit_positions[-1]
            text = text[:last] + str(check) + text[last + 1:]
        return text


def _example_from_doc(module) -> str:
    match = re.search(r">>> validate\('([^']+)'\)", module.__doc__ or "")
    return match.group(1) if match else "0" * 10


def _generate(parsed, rng: random.Random) -> str:
    out: list[str] = []
    for op, arg in parsed:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "IN":
            out.append(_pick_from_class(arg, rng))
        elif name == "ANY":
            out.append(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"))
        elif name in {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}:
            low, high, sub = arg
            high = min(high, low + 3) if high != sre_parse.MAXREPEAT else low + 3
            for _ in range(rng.randint(low, high)):
                out.append(_generate(sub, rng))
        elif name == "SUBPATTERN":
            out.append(_generate(arg[-1], rng))
        elif name == "BRANCH":
            out.append(_generate(rng.choice(arg[1]), rng))
        elif name in {"AT"}:
            continue
        else:
            raise ValueError(f"pattern element {name} is not supported for samples")
    return "".join(out)


def _pick_from_class(items, rng: random.Random) -> str:
    chars: list[str] = []
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            chars.append(chr(arg))
        elif name == "RANGE":
            chars.extend(chr(c) for c in range(arg[0], arg[1] + 1))
        elif name == "CATEGORY":
            if "DIGIT" in str(arg):
                chars.extend("0123456789")
            elif "WORD" in str(arg):
                chars.extend("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        elif name == "NEGATE":
            raise ValueError("negated classes are not supported for samples")
    return rng.choice(chars)
