"""The volunteer's offline tool: ``python -m crypto`` (installed as ``haven-crypto``).

A volunteer who does not want the server to see plaintext, even while it is
compromised, makes a key here, downloads bundles from the staff site, opens
them on their own machine, and seals replies here to upload.

Exit status: 0 on success, 1 if something could not be decrypted (including a
wrong passphrase), 2 for a usage error or unusable input, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from nacl.public import PrivateKey

from crypto import bundle as bundles
from crypto import cli_files, cli_readers
from crypto.envelope import fingerprint, open_envelope, seal
from crypto.errors import DecryptionError, InvalidBundle, InvalidInput
from crypto.hybrid import (
    HybridPrivateKey,
    HybridPublicKey,
    ReaderPublicKey,
    gain_mlkem,
    mlkem_fingerprint,
    x25519_public,
)
from crypto.kdf import DEFAULT_KDF_PARAMS, KdfParams
from crypto.keytext import (
    decode_wrapped_key,
    encode_public_key,
    encode_wrapped_key,
)
from crypto.volunteer import (
    unwrap_private_key,
    wrap_private_key,
    wrapped_key_params,
    wrapped_key_version,
    wrapped_public_key,
)

__all__ = ["PASSPHRASE_ENV", "CommandError", "build_parser", "main"]

#: Environment variable read for the passphrase when set (scripts and tests).
PASSPHRASE_ENV = "HAVEN_CRYPTO_PASSPHRASE"  # noqa: S105 (a variable name, not a secret)

_PROG = "haven-crypto"
_EXIT_DECRYPTION = 1
_EXIT_USAGE = 2
_EXIT_INTERRUPTED = 130


class CommandError(Exception):
    """A problem with the command line or its files; the tool exits with status 2."""


def main(argv: list[str] | None = None) -> int:
    """Run the tool with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    Usage errors found by :mod:`argparse` exit through :class:`SystemExit` with
    status 2, as argparse always does.
    """
    args = build_parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except DecryptionError as exc:
        return _fail(str(exc), _EXIT_DECRYPTION)
    except (CommandError, InvalidInput) as exc:
        return _fail(str(exc), _EXIT_USAGE)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename is not None else ""
        return _fail(f"{where}{exc.strerror or exc}", _EXIT_USAGE)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return _EXIT_INTERRUPTED
    return status


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser, one sub-command per action."""
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Haven's offline tool: make a key, open bundles, seal replies.",
        epilog="Exit status: 0 ok, 1 could not decrypt or wrong passphrase, 2 usage or bad input.",
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    _add_keygen(commands)
    _add_pubkey(commands)
    _add_upgrade(commands)
    _add_open(commands)
    _add_seal(commands)
    return parser


def _add_passphrase_fd(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--passphrase-fd",
        type=int,
        metavar="N",
        help=f"read the passphrase from the first line of file descriptor N instead of "
        f"asking (also: the {PASSPHRASE_ENV} environment variable)",
    )


def _add_keygen(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "keygen",
        help="make a passphrase-protected key file",
        description="Make a new key pair, write the private key protected by a passphrase "
        "to KEYFILE (mode 0600, never overwritten), and print the public key to paste "
        "into Haven.",
    )
    parser.add_argument(
        "-o", "--output", required=True, type=Path, metavar="KEYFILE", help="key file to create"
    )
    _add_passphrase_fd(parser)
    parser.add_argument(
        "--kdf-opslimit",
        type=int,
        default=DEFAULT_KDF_PARAMS.opslimit,
        metavar="N",
        help="argon2id passes (default %(default)s)",
    )
    parser.add_argument(
        "--kdf-memlimit-mib",
        type=int,
        default=DEFAULT_KDF_PARAMS.memlimit // (1 << 20),
        metavar="MIB",
        help="argon2id memory in MiB, at least 8 (default %(default)s)",
    )
    parser.set_defaults(run=_keygen)


def _add_pubkey(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "pubkey",
        help="print the public key of a key file",
        description="Print the public key stored in KEYFILE. Needs no passphrase.",
    )
    parser.add_argument("keyfile", type=Path, metavar="KEYFILE", help="a key file from keygen")
    parser.set_defaults(run=_pubkey)


def _add_upgrade(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "upgrade",
        help="add an ML-KEM-768 key to an old (haven-wk1) key file",
        description="Write NEWFILE: the key in KEYFILE, same passphrase and X25519 key, "
        "with an ML-KEM-768 key added, and print its haven-pk2 public key for Haven's "
        "account page. Keep KEYFILE until Haven has the new key.",
    )
    parser.add_argument("keyfile", type=Path, metavar="KEYFILE", help="a haven-wk1 key file")
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="NEWFILE")
    _add_passphrase_fd(parser)
    parser.set_defaults(run=_upgrade)


def _add_open(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "open",
        help="decrypt a bundle downloaded from Haven",
        description="Decrypt what BUNDLE holds for your key: text printed or written to OUT, "
        "files to FOLDER (default: BUNDLE-files); mode 0600, nothing overwritten.",
    )
    parser.add_argument("bundle", type=Path, metavar="BUNDLE", help="bundle file from Haven")
    parser.add_argument(
        "-k", "--key", required=True, type=Path, metavar="KEYFILE", help="your key file"
    )
    parser.add_argument("-o", "--output", type=Path, metavar="OUT", help="file to create")
    parser.add_argument("--files", type=Path, metavar="FOLDER", help="for attached files")
    _add_passphrase_fd(parser)
    parser.set_defaults(run=_open)


def _add_seal(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "seal",
        help="seal a reply into a bundle to upload to Haven",
        description="Seal text typed or piped in (or read from INPUT) to every reader "
        "named with --to or listed in a --to-file, and write a bundle to upload to Haven. "
        "Add your own public key with --to if you want to be able to read it again.",
    )
    parser.add_argument(
        "--to", action="append", default=[], metavar="PUBKEY", help="a reader (repeatable)"
    )
    parser.add_argument(
        "--to-file", action="append", default=[], type=Path, metavar="FILE",
        help="a file of readers' public keys, one a line: the readers file that the staff "
        "site offers for a request (repeatable)",
    )
    parser.add_argument(
        "--ad",
        default="",
        metavar="AD",
        help="associated data, exactly as the staff site shows it for this reply",
    )
    parser.add_argument("--kind", default="reply", help="bundle kind (default %(default)s)")
    parser.add_argument(
        "-i", "--input", type=Path, metavar="INPUT", help="read the reply from INPUT, not stdin"
    )
    parser.add_argument(
        "-o", "--output", type=Path, metavar="OUT", help="bundle file to create, not stdout"
    )
    parser.set_defaults(run=_seal)


def _keygen(args: argparse.Namespace) -> int:
    output: Path = args.output
    if output.exists() or output.is_symlink():
        raise CommandError(f"{output} already exists; refusing to overwrite it")
    params = _params_from(args.kdf_opslimit, args.kdf_memlimit_mib)
    passphrase = _passphrase(args, confirm=True)
    if not passphrase:
        raise CommandError("the passphrase must not be empty")
    # New keys are always hybrid: what is sealed to them must outlast X25519.
    private_key = gain_mlkem(PrivateKey.generate())
    wrapped = wrap_private_key(private_key, passphrase, params=params)
    _write_new(output, (encode_wrapped_key(wrapped) + "\n").encode("ascii"), mode=0o600)
    print(f"Wrote {output}. Paste this public key into Haven:", file=sys.stderr)
    public_key = private_key.public_key
    print(encode_public_key(public_key))
    _print_fingerprints(public_key)
    return 0


def _pubkey(args: argparse.Namespace) -> int:
    public_key = wrapped_public_key(_read_key_file(args.keyfile))
    print(encode_public_key(public_key))
    _print_fingerprints(public_key)
    if not isinstance(public_key, HybridPublicKey):
        print("This key has no ML-KEM half: make a new one with keygen and give Haven its "
              "public key, so that what is sealed to you is hybrid.", file=sys.stderr)
    return 0


def _upgrade(args: argparse.Namespace) -> int:
    output: Path = args.output
    if output.exists() or output.is_symlink():
        raise CommandError(f"{output} already exists; refusing to overwrite it")
    wrapped = _read_key_file(args.keyfile)
    if wrapped_key_version(wrapped) != 1:
        raise CommandError(f"{args.keyfile} already has an ML-KEM key")
    passphrase = _passphrase(args, confirm=False)
    private_key = unwrap_private_key(wrapped, passphrase)
    if isinstance(private_key, HybridPrivateKey):  # a version-1 file holds X25519 only
        raise CommandError(f"{args.keyfile} already has an ML-KEM key")
    hybrid = gain_mlkem(private_key)
    # The new file costs what the old one did: the volunteer chose that cost.
    upgraded = wrap_private_key(hybrid, passphrase, params=wrapped_key_params(wrapped))
    _write_new(output, (encode_wrapped_key(upgraded) + "\n").encode("ascii"), mode=0o600)
    print(f"Wrote {output}. Paste this public key into Haven's account page:", file=sys.stderr)
    print(encode_public_key(hybrid.public_key))
    _print_fingerprints(hybrid.public_key)
    return 0


def _print_fingerprints(public_key: ReaderPublicKey) -> None:
    print(f"fingerprint {fingerprint(x25519_public(public_key))}", file=sys.stderr)
    if isinstance(public_key, HybridPublicKey):
        print(f"ml-kem fingerprint {mlkem_fingerprint(public_key)}", file=sys.stderr)


def _open(args: argparse.Namespace) -> int:
    try:
        bundle = bundles.load_bundle(args.bundle.read_bytes())
    except InvalidBundle as exc:
        raise CommandError(f"{args.bundle} is not a Haven bundle: {exc}") from None
    wrapped = _read_key_file(args.key)
    # Checked before asking for the passphrase, from the key file's public half.
    mine = fingerprint(x25519_public(wrapped_public_key(wrapped)))
    if not any(mine in item.envelope.stanzas for item in bundle.items):
        raise DecryptionError("nothing in this bundle is sealed to your key")
    private_key = unwrap_private_key(wrapped, _passphrase(args, confirm=False))
    total = len(bundle.items)
    chunks: list[bytes] = []
    attached: list[cli_files.Numbered] = []
    for number, item in enumerate(bundle.items, 1):
        stanza = item.envelope.stanzas.get(mine)
        if stanza is None:
            chunks.append(_item_heading(number, total, "not sealed to your key"))
            continue
        plaintext = open_envelope(item.envelope.body, stanza, private_key, item.associated_data)
        attached += [(number, f) for f in cli_files.open_files(item, stanza, private_key)]
        if total == 1:
            chunks.append(plaintext)
        else:
            ending = b"" if plaintext.endswith(b"\n") else b"\n"
            chunks.append(_item_heading(number, total) + plaintext + ending)
    _emit(b"".join(chunks), args.output, mode=0o600)
    if attached:
        folder = args.files or args.bundle.with_name(args.bundle.stem + "-files")
        print("\n".join(cli_files.write_files(folder, attached)), file=sys.stderr)
    opened = sum(mine in item.envelope.stanzas for item in bundle.items)
    if opened < total:
        print(f"Opened {opened} of {total} items.", file=sys.stderr)
    return 0


def _seal(args: argparse.Namespace) -> int:
    readers = cli_readers.readers(args.to, args.to_file)
    if args.input is not None:
        plaintext = args.input.read_bytes()
    else:
        if sys.stdin.isatty():
            print("Type the reply; end it with Ctrl-D on a line of its own.", file=sys.stderr)
        plaintext = sys.stdin.buffer.read()
    try:
        ad = args.ad.encode("utf-8")
    except UnicodeEncodeError:
        raise CommandError("--ad must be text that can be encoded as UTF-8") from None
    envelope = seal(plaintext, readers, ad)
    item = bundles.BundleItem(associated_data=ad, envelope=envelope)
    text = bundles.dump_bundle(bundles.Bundle(kind=args.kind, items=(item,)))
    _emit(text.encode("ascii"), args.output, mode=0o644, sanitize=False)
    return 0


def _params_from(opslimit: int, memlimit_mib: int) -> KdfParams:
    # 8 MiB is a floor for people, above argon2id's 8 KiB floor for tests.
    if memlimit_mib < 8:
        raise CommandError("--kdf-memlimit-mib must be at least 8")
    return KdfParams(opslimit=opslimit, memlimit=memlimit_mib << 20)


def _passphrase(args: argparse.Namespace, *, confirm: bool) -> str:
    if args.passphrase_fd is not None:
        return _passphrase_from_fd(args.passphrase_fd)
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env is not None:
        return from_env
    first = getpass.getpass("Passphrase: ")
    if confirm and getpass.getpass("Passphrase again: ") != first:
        raise CommandError("the two passphrases differ")
    return first


def _passphrase_from_fd(fd: int) -> str:
    with os.fdopen(fd, "rb", closefd=False) as stream:
        line = stream.readline(65536)
    try:
        return line.rstrip(b"\r\n").decode("utf-8")
    except UnicodeDecodeError:
        raise CommandError("the passphrase read from --passphrase-fd is not UTF-8") from None


def _read_key_file(path: Path) -> bytes:
    try:
        return decode_wrapped_key(path.read_bytes().decode("ascii"))
    except (UnicodeDecodeError, InvalidInput):
        raise CommandError(f"{path} is not a Haven key file") from None


def _item_heading(number: int, total: int, note: str = "") -> bytes:
    suffix = f": {note}" if note else ""
    return f"--- item {number} of {total}{suffix} ---\n".encode()


def _emit(data: bytes, output: Path | None, *, mode: int, sanitize: bool = True) -> None:
    if output is not None:
        _write_new(output, data, mode=mode)
        return
    if sanitize and sys.stdout.isatty():
        data = _printable(data)
    sys.stdout.buffer.write(data)
    sys.stdout.flush()


def _printable(data: bytes) -> bytes:
    # Text from strangers goes to a terminal: escape sequences in it could
    # rewrite the screen or, on some terminals, answer back as typed input.
    text = data.decode("utf-8", errors="replace")
    kept = (ch if ch in "\n\t" or not _is_control(ch) else "\ufffd" for ch in text)
    return "".join(kept).encode("utf-8")


def _is_control(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or 0x7F <= code < 0xA0


def _write_new(path: Path, data: bytes, *, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise CommandError(f"{path} already exists; refusing to overwrite it") from None
    with os.fdopen(fd, "wb") as stream:
        stream.write(data)


def _fail(message: str, status: int) -> int:
    print(f"{_PROG}: {message.rstrip('.')}.", file=sys.stderr)
    return status
