"""The offline tool. Named test_crypto_cli.py, not test_cli.py: test folders here
have no __init__.py, so two test_cli.py files anywhere under tests/ would collide."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from nacl.public import PrivateKey

from crypto.__main__ import main as console_main
from crypto.bundle import Bundle, BundleItem, dump_bundle, load_bundle
from crypto.cli import PASSPHRASE_ENV, main
from crypto.envelope import open_for_reader, seal
from crypto.hybrid import HybridPrivateKey
from crypto.kdf import TEST_KDF_PARAMS
from crypto.keytext import (
    decode_public_key,
    decode_wrapped_key,
    encode_public_key,
    encode_wrapped_key,
)
from crypto.stanza import stanza_version
from crypto.volunteer import unwrap_private_key, wrap_private_key

REPO = Path(__file__).resolve().parents[2]
PASSPHRASE = "a long passphrase for tests"
CHEAP_KDF = ["--kdf-opslimit", "1", "--kdf-memlimit-mib", "8"]
KEY = PrivateKey(bytes(range(32)))
COMMANDS = ["keygen", "pubkey", "upgrade", "open", "seal"]


def _tool(
    *args: str,
    cwd: Path,
    stdin: bytes = b"",
    env: dict[str, str] | None = None,
    pass_fds: tuple[int, ...] = (),
) -> subprocess.CompletedProcess[bytes]:
    environment = {k: v for k, v in os.environ.items() if k != PASSPHRASE_ENV}
    environment["PYTHONPATH"] = str(REPO)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "crypto", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env=environment,
        timeout=60,
        check=False,
        pass_fds=pass_fds,
    )


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "volunteer.key"
    wrapped = wrap_private_key(KEY, PASSPHRASE, params=TEST_KDF_PARAMS)
    path.write_text(encode_wrapped_key(wrapped) + "\n")
    return path


@pytest.fixture(autouse=True)
def _passphrase_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)


def _bundle_file(tmp_path: Path, *items: tuple[bytes, bytes, list[PrivateKey]]) -> Path:
    sealed = tuple(
        BundleItem(ad, seal(text, [r.public_key for r in readers], ad))
        for ad, text, readers in items
    )
    path = tmp_path / "bundle.json"
    path.write_text(dump_bundle(Bundle(kind="thread", items=sealed)))
    return path


def test_keygen_seal_open_round_trip_through_subprocesses(tmp_path: Path) -> None:
    made = _tool(
        "keygen", "-o", "me.key", *CHEAP_KDF, cwd=tmp_path, env={PASSPHRASE_ENV: PASSPHRASE}
    )
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE((tmp_path / "me.key").stat().st_mode) == 0o600
    public_text = made.stdout.decode().strip()
    decode_public_key(public_text)

    shown = _tool("pubkey", "me.key", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.decode().strip() == public_text

    reply = "Thank you — we will be there on Monday.\n".encode()
    sealed = _tool("seal", "--to", public_text, "--ad", "message:42:1", cwd=tmp_path, stdin=reply)
    assert sealed.returncode == 0, sealed.stderr
    (tmp_path / "reply.json").write_bytes(sealed.stdout)
    # keygen makes hybrid keys, and seal writes a hybrid stanza to one.
    [item] = load_bundle(sealed.stdout.decode()).items
    assert [stanza_version(s) for s in item.envelope.stanzas.values()] == [2]

    read_end, write_end = os.pipe()
    os.write(write_end, PASSPHRASE.encode() + b"\n")
    os.close(write_end)
    try:
        opened = _tool(
            "open",
            "reply.json",
            "-k",
            "me.key",
            "--passphrase-fd",
            str(read_end),
            cwd=tmp_path,
            pass_fds=(read_end,),
        )
    finally:
        os.close(read_end)
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout == reply


def test_keygen_refuses_to_overwrite_through_subprocess(tmp_path: Path) -> None:
    (tmp_path / "me.key").write_text("precious")
    made = _tool(
        "keygen", "-o", "me.key", *CHEAP_KDF, cwd=tmp_path, env={PASSPHRASE_ENV: PASSPHRASE}
    )
    assert made.returncode == 2
    assert made.stderr.decode().count("\n") == 1
    assert "refusing to overwrite" in made.stderr.decode()
    assert (tmp_path / "me.key").read_text() == "precious"


def test_wrong_passphrase_exits_1_with_one_sentence_and_no_traceback(
    tmp_path: Path, key_file: Path
) -> None:
    bundle = _bundle_file(tmp_path, (b"ad", b"secret", [KEY]))
    result = _tool(
        "open",
        str(bundle),
        "-k",
        str(key_file),
        cwd=tmp_path,
        env={PASSPHRASE_ENV: "not the passphrase"},
    )
    assert result.returncode == 1
    assert result.stdout == b""
    assert result.stderr.decode() == (
        "haven-crypto: wrong passphrase, or the wrapped key was altered.\n"
    )


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)])
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    assert "usage: haven-crypto" in capsys.readouterr().out


def test_console_script_entry_point_is_the_cli() -> None:
    assert console_main is main


@pytest.mark.parametrize(
    "argv",
    [[], ["frobnicate"], ["keygen"], ["open", "bundle.json"], ["pubkey"]],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_keygen_writes_a_key_that_opens_with_the_passphrase(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "k.key"
    assert main(["keygen", "-o", str(path), *CHEAP_KDF]) == 0
    out = capsys.readouterr()
    text = path.read_text()
    # New keys are hybrid: the key file and the public key are version 2.
    assert text.startswith("haven-wk2:")
    assert PASSPHRASE not in text
    private_key = unwrap_private_key(_wrapped_from(path), PASSPHRASE)
    assert isinstance(private_key, HybridPrivateKey)
    assert out.out.strip() == encode_public_key(private_key.public_key)
    assert out.out.startswith("haven-pk2:")
    assert "ml-kem fingerprint" in out.err
    assert "Paste this public key into Haven" in out.err


def _wrapped_from(path: Path) -> bytes:
    return decode_wrapped_key(path.read_text())


def test_keygen_asks_twice_when_no_passphrase_is_supplied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV)
    answers = iter(["first", "second"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    assert main(["keygen", "-o", str(tmp_path / "k.key"), *CHEAP_KDF]) == 2
    assert "differ" in capsys.readouterr().err
    assert not (tmp_path / "k.key").exists()

    answers = iter(["same one", "same one"])
    assert main(["keygen", "-o", str(tmp_path / "k.key"), *CHEAP_KDF]) == 0
    assert unwrap_private_key(_wrapped_from(tmp_path / "k.key"), "same one")


def test_keygen_refuses_an_empty_passphrase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, "")
    assert main(["keygen", "-o", str(tmp_path / "k.key"), *CHEAP_KDF]) == 2
    assert "must not be empty" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--kdf-memlimit-mib", "4"], "at least 8"),
        (["--kdf-opslimit", "0"], "opslimit must be from 1"),
        (["--kdf-memlimit-mib", "4096"], "memlimit must be from"),
    ],
)
def test_keygen_refuses_bad_cost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    assert main(["keygen", "-o", str(tmp_path / "k.key"), *flags]) == 2
    assert message in capsys.readouterr().err


def test_pubkey_needs_no_passphrase(
    key_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV)
    assert main(["pubkey", str(key_file)]) == 0
    assert capsys.readouterr().out.strip() == encode_public_key(KEY.public_key)


def test_pubkey_of_a_non_key_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("shopping list")
    assert main(["pubkey", str(path)]) == 2
    assert "is not a Haven key file" in capsys.readouterr().err


def test_open_a_thread_shows_each_item_and_skips_others(
    tmp_path: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = PrivateKey.generate()
    bundle = _bundle_file(
        tmp_path,
        (b"request:1:1", b"first", [KEY, other]),
        (b"message:2:1", b"not for you", [other]),
        (b"message:3:1", b"third\n", [KEY]),
    )
    assert main(["open", str(bundle), "-k", str(key_file)]) == 0
    out = capsys.readouterr()
    assert out.out == (
        "--- item 1 of 3 ---\nfirst\n"
        "--- item 2 of 3: not sealed to your key ---\n"
        "--- item 3 of 3 ---\nthird\n"
    )
    assert "Opened 2 of 3 items." in out.err


def test_a_hybrid_key_file_still_opens_v1_stanzas_to_its_x25519_half(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A volunteer whose key gained an ML-KEM half keeps reading what was
    # sealed to them before, and what is sealed to them now.
    hybrid = HybridPrivateKey(KEY, bytes(range(64)))
    path = tmp_path / "hybrid.key"
    path.write_text(encode_wrapped_key(wrap_private_key(hybrid, PASSPHRASE,
                                                        params=TEST_KDF_PARAMS)) + "\n")
    old = BundleItem(b"a", seal(b"sealed before", [KEY.public_key], b"a"))
    new = BundleItem(b"b", seal(b"sealed after", [hybrid.public_key], b"b"))
    bundle = tmp_path / "thread.json"
    bundle.write_text(dump_bundle(Bundle(kind="thread", items=(old, new))))
    assert main(["open", str(bundle), "-k", str(path)]) == 0
    out = capsys.readouterr().out
    assert "sealed before" in out
    assert "sealed after" in out


def test_open_writes_output_file_0600_and_never_overwrites(
    tmp_path: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = _bundle_file(tmp_path, (b"ad", b"\x00binary\xff", [KEY]))
    out = tmp_path / "plain.bin"
    assert main(["open", str(bundle), "-k", str(key_file), "-o", str(out)]) == 0
    assert out.read_bytes() == b"\x00binary\xff"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert main(["open", str(bundle), "-k", str(key_file), "-o", str(out)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err


def test_open_a_bundle_not_for_this_key_exits_1_without_asking_the_passphrase(
    tmp_path: Path,
    key_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV)

    def no_prompt(prompt: str) -> str:
        raise AssertionError("asked for a passphrase it cannot use")

    monkeypatch.setattr("getpass.getpass", no_prompt)
    bundle = _bundle_file(tmp_path, (b"ad", b"secret", [PrivateKey.generate()]))
    assert main(["open", str(bundle), "-k", str(key_file)]) == 1
    assert "nothing in this bundle is sealed to your key" in capsys.readouterr().err


def test_open_a_tampered_bundle_exits_1(
    tmp_path: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = _bundle_file(tmp_path, (b"message:1:1", b"secret", [KEY]))
    bundle.write_text(bundle.read_text().replace("bWVzc2FnZToxOjE=", "bWVzc2FnZToyOjE="))
    assert main(["open", str(bundle), "-k", str(key_file)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("haven-crypto: ")
    assert err.count("\n") == 1


@pytest.mark.parametrize("content", ["{}", "not json at all", '{"haven_bundle": 9}'])
def test_open_a_non_bundle_exits_2(
    tmp_path: Path, key_file: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    path = tmp_path / "x.json"
    path.write_text(content)
    assert main(["open", str(path), "-k", str(key_file)]) == 2
    assert "is not a Haven bundle" in capsys.readouterr().err


def test_missing_file_exits_2(
    tmp_path: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["open", str(tmp_path / "absent.json"), "-k", str(key_file)]) == 2
    assert "No such file or directory" in capsys.readouterr().err


def test_open_on_a_terminal_neutralises_control_characters(
    tmp_path: Path,
    key_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hostile = "title\x1b]0;pwned\x07\x1b[2J\u009b1m ok\t\u062a\u0645\u0627\u0645\n".encode()
    bundle = _bundle_file(tmp_path, (b"ad", hostile, [KEY]))
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(["open", str(bundle), "-k", str(key_file)]) == 0
    shown = capsys.readouterr().out
    for control in ["\x1b", "\x07", "\u009b"]:
        assert control not in shown
    assert shown == "title\ufffd]0;pwned\ufffd\ufffd[2J\ufffd1m ok\t\u062a\u0645\u0627\u0645\n"


def test_seal_from_file_to_several_readers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = PrivateKey.generate()
    source = tmp_path / "reply.txt"
    source.write_bytes(b"the reply")
    target = tmp_path / "reply.json"
    argv = ["seal", "-i", str(source), "-o", str(target), "--ad", "message:9:1", "--kind", "reply"]
    argv += ["--to", encode_public_key(KEY.public_key), "--to", encode_public_key(other.public_key)]
    assert main(argv) == 0
    bundle = load_bundle(target.read_text())
    assert bundle.kind == "reply"
    (item,) = bundle.items
    assert item.associated_data == b"message:9:1"
    assert open_for_reader(item.envelope, KEY, b"message:9:1") == b"the reply"
    assert open_for_reader(item.envelope, other, b"message:9:1") == b"the reply"
    assert main(argv) == 2  # never overwrites
    capsys.readouterr()


def test_seal_to_a_readers_file_and_a_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The staff site's readers file, one key a line; blank lines and comments
    are skipped, and --to adds a reader of the sealer's own choosing."""
    others = [PrivateKey.generate() for _ in range(3)]
    readers = tmp_path / "haven-x-readers.txt"
    readers.write_text("# readers\n" + "".join(
        f"{encode_public_key(k.public_key)}\n\n" for k in others[:2]))
    source = tmp_path / "reply.txt"
    source.write_bytes(b"to all of you")
    target = tmp_path / "reply.json"
    assert main(["seal", "-i", str(source), "-o", str(target), "--to-file", str(readers),
                 "--to", encode_public_key(others[2].public_key), "--ad", "m"]) == 0
    (item,) = load_bundle(target.read_text()).items
    assert len(item.envelope.stanzas) == 3
    for reader in others:
        assert open_for_reader(item.envelope, reader, b"m") == b"to all of you"
    capsys.readouterr()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--to", "haven-pk1:AAAA"], "is not a usable Haven public key"),
        (["--to", encode_public_key(KEY.public_key), "--kind", "Bad Kind"], "kind"),
        ([], "name the readers"),
    ],
)
def test_seal_refuses_bad_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    source = tmp_path / "reply.txt"
    source.write_bytes(b"x")
    assert main(["seal", "-i", str(source), *extra]) == 2
    assert message in capsys.readouterr().err


def test_seal_refuses_oversized_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "big.txt"
    source.write_bytes(bytes(70_000))
    assert main(["seal", "-i", str(source), "--to", encode_public_key(KEY.public_key)]) == 2
    assert "at most 65532" in capsys.readouterr().err


def test_upgrade_adds_an_mlkem_key_and_keeps_the_x25519_one(
    key_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = tmp_path / "new.key"
    assert main(["upgrade", str(key_file), "-o", str(new)]) == 0
    out = capsys.readouterr()
    assert stat.S_IMODE(new.stat().st_mode) == 0o600
    assert new.read_text().startswith("haven-wk2:")
    upgraded = unwrap_private_key(_wrapped_from(new), PASSPHRASE)
    assert isinstance(upgraded, HybridPrivateKey)
    assert upgraded.x25519 == KEY
    assert out.out.strip() == encode_public_key(upgraded.public_key)
    # Same passphrase cost as the old file, which the volunteer chose.
    assert _wrapped_from(new)[1:13] == _wrapped_from(key_file)[1:13]
    # Upgrading twice is refused; so is overwriting.
    assert main(["upgrade", str(new), "-o", str(tmp_path / "again.key")]) == 2
    assert "already has an ML-KEM key" in capsys.readouterr().err
    assert main(["upgrade", str(key_file), "-o", str(new)]) == 2


def test_upgrade_with_the_wrong_passphrase_writes_nothing(
    key_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, "not the passphrase")
    assert main(["upgrade", str(key_file), "-o", str(tmp_path / "new.key")]) == 1
    assert not (tmp_path / "new.key").exists()
