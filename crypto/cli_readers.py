"""The offline tool's readers: public keys named with --to or listed in a file.

A request's readers file comes from the staff site (``/cases/<id>/readers.txt``):
one key a line. Keys are checked here before anything is sealed, and a bad
one is named by where it came from, shortened, so that a 1.6 KB key does not
fill the terminal.
"""

from __future__ import annotations

from pathlib import Path

from crypto.errors import InvalidInput, InvalidPublicKey
from crypto.hybrid import ReaderPublicKey
from crypto.keytext import decode_public_key

__all__ = ["readers"]


def readers(keys: list[str], files: list[Path]) -> list[ReaderPublicKey]:
    """Every reader named in ``keys`` (as given to --to) and in ``files``.

    :raises InvalidInput: for a key that is not a Haven public key, a file that
        cannot be read or names nobody, or no reader at all
    """
    found = [_reader(text, "--to") for text in keys]
    for path in files:
        found += [_reader(text, str(path)) for text in _key_lines(path)]
    if not found:
        raise InvalidInput("name the readers: --to PUBKEY, or --to-file with the readers "
                           "file the staff site offers for the request")
    return found


def _reader(text: str, source: str) -> ReaderPublicKey:
    try:
        return decode_public_key(text)
    except InvalidPublicKey as exc:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise InvalidInput(f"{source}: {shown!r} is not a usable Haven public key: {exc}"
                           ) from None


def _key_lines(path: Path) -> list[str]:
    """The keys in a readers file: one a line; blank lines and ``#`` comments skipped."""
    try:
        text = path.read_text(encoding="ascii")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not a readers file: it holds more than plain "
                           "ASCII keys") from None
    keys = [line.strip() for line in text.splitlines()]
    keys = [key for key in keys if key and not key.startswith("#")]
    if not keys:
        raise InvalidInput(f"{path} names no reader")
    return keys
