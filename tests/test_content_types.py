"""The mark a view carries when it takes files."""

from onion_app.web.content_types import accepts_files, takes_files


def test_a_marked_view_takes_files_and_an_unmarked_one_does_not() -> None:
    def plain() -> str:
        return "plain"

    @accepts_files
    def upload() -> str:
        return "upload"

    assert takes_files(upload)
    assert upload() == "upload"
    assert not takes_files(plain)
    assert not takes_files(None)
