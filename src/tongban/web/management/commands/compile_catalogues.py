"""Compile every message catalogue (.po) under LOCALE_PATHS to .mo with polib.

Django's ``compilemessages`` needs GNU gettext's ``msgfmt``; this command needs only the
``polib`` package, so a fresh machine can build the catalogues. Fuzzy entries are left out of
the .mo (as ``msgfmt`` does); ``--check`` fails when a catalogue has untranslated or fuzzy
entries, or when a .mo is missing or out of date.
"""

from __future__ import annotations

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def catalogues() -> list[Path]:
    found: list[Path] = []
    for base in settings.LOCALE_PATHS:
        found.extend(sorted(Path(base).glob("*/LC_MESSAGES/*.po")))
    return found


def compiled(po_path: Path) -> bytes:
    """The .mo bytes for a .po file, built in memory."""
    return polib.pofile(str(po_path)).to_binary()


def problems(po_path: Path) -> list[str]:
    po = polib.pofile(str(po_path))
    out = [f"untranslated: {e.msgid!r}" for e in po.untranslated_entries()]
    out += [f"fuzzy: {e.msgid!r}" for e in po.fuzzy_entries()]
    return out


class Command(BaseCommand):
    help = "Compile the .po catalogues under LOCALE_PATHS to .mo files using polib (no gettext)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Write nothing; fail if a catalogue is incomplete or its .mo is out of date.",
        )

    def handle(self, *args, check: bool = False, **options):
        paths = catalogues()
        if not paths:
            raise CommandError("No .po files found under LOCALE_PATHS.")
        failures: list[str] = []
        for po_path in paths:
            mo_path = po_path.with_suffix(".mo")
            data = compiled(po_path)
            if check:
                failures += [f"{po_path}: {p}" for p in problems(po_path)]
                if not mo_path.exists() or mo_path.read_bytes() != data:
                    failures.append(f"{mo_path}: missing or out of date")
                continue
            if mo_path.exists() and mo_path.read_bytes() == data:
                self.stdout.write(f"unchanged {mo_path}")
            else:
                mo_path.write_bytes(data)
                self.stdout.write(self.style.SUCCESS(f"compiled  {mo_path}"))
        if failures:
            raise CommandError("\n".join(failures))
        if check:
            self.stdout.write(
                self.style.SUCCESS(f"{len(paths)} catalogue(s) complete and compiled")
            )
