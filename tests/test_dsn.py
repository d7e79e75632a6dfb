"""The one DSN parser: every spelling libpq takes, masking, and refusing what is not clean."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mirror.dsn import Dsn, mask_whole
from mirror.errors import UsageError
from mirror.secrets import password_of, redact, scrub


@pytest.mark.parametrize(
    "text",
    [
        "postgresql://ro:s3cret@db.example:5433/billig?sslmode=require",
        "postgres://ro:s3cret@db.example:5433/billig?sslmode=require",
        "postgresql+psycopg2://ro:s3cret@db.example:5433/billig?sslmode=require",
        "POSTGRESQL://ro:s3cret@db.example:5433/billig?sslmode=require",
        "host=db.example port=5433 user=ro password=s3cret dbname=billig sslmode=require",
        "  host=db.example port = 5433 user=ro password='s3cret' dbname=billig sslmode=require\n",
    ],
)
def test_every_spelling_means_the_same_target(text: str) -> None:
    assert Dsn.parse(text) == Dsn(
        host="db.example",
        port="5433",
        username="ro",
        password="s3cret",
        database="billig",
        query=(("sslmode", "require"),),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql:///billig?host=/run/pg", Dsn(host="/run/pg", database="billig")),
        ("postgresql://%2Frun%2Fpg/billig", Dsn(host="/run/pg", database="billig")),
        ("postgresql://[::1]:5433/billig", Dsn(host="::1", port="5433", database="billig")),
        ("postgresql://a:1,b:2/billig", Dsn(host="a,b", port="1,2", database="billig")),
        ("postgresql://u:p%40ss%2F%3A%25@h/db", Dsn(host="h", username="u", password="p@ss/:%",
                                                    database="db")),
        ("postgresql://u:a:b@h/db", Dsn(host="h", username="u", password="a:b", database="db")),
        ("postgresql://h/db?options=-c%20work_mem%3D8MB",
         Dsn(host="h", database="db", query=(("options", "-c work_mem=8MB"),))),
        ("host=h password='it\\'s a pw'", Dsn(host="h", password="it's a pw")),
    ],
)  # fmt: skip
def test_what_libpq_accepts_is_read_as_libpq_reads_it(text: str, expected: Dsn) -> None:
    assert Dsn.parse(text) == expected


@pytest.mark.parametrize(
    "dsn",
    [
        Dsn(host="h", port="5432", username="u s@r", password="p@ss:w/rd%#?&= x", database="d b"),
        Dsn(host="/run/pg", username="u", password="pw", database="billig"),
        Dsn(host="a,b", port="1,2", username="u", database="billig"),
        Dsn(host="::1", port="5433", database="billig", query=(("sslmode", "require"),)),
        Dsn(host="h", database="db", query=(("application_name", "x&y=z#"), ("sslmode", "allow"))),
    ],
)
def test_a_rendered_url_parses_back_to_the_same_target(dsn: Dsn) -> None:
    assert Dsn.parse(dsn.url()) == dsn
    assert Dsn.of(dsn.sqlalchemy()) == dsn


def test_shown_a_dsn_never_shows_a_secret() -> None:
    dsn = Dsn.parse("postgresql://ro:s3cret@h:5/db?sslpassword=k3y&sslmode=require")
    for shown in (dsn.masked(), str(dsn), repr(dsn), f"{dsn}", redact(dsn), dsn.where):
        assert "s3cret" not in shown and "k3y" not in shown
    assert dsn.masked() == "postgresql://ro:***@h:5/db?sslmode=require&sslpassword=***"
    assert dsn.where == "ro@h:5/db"
    assert dsn.params()["password"] == "s3cret"


# The cases of the issue: a password written raw must never be read as a host or a port.
@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("postgresql://u2:Secret@2024@127.0.0.1:5432/billig", "postgresql://***@127.0.0.1:5432/billig"),
        ("postgresql://u2:Sec/ret2024@127.0.0.1:5432/billig", "postgresql://***@127.0.0.1:5432/billig"),
        ("postgresql://u2:Pa@s:s/w%rd#x?y&z=1 two@127.0.0.1/billig", "postgresql://***@127.0.0.1/billig"),
        ("postgres://u2:a b@h/billig", "postgres://***@h/billig"),
        ("postgresql://u@h/db?application_name=a@b", "postgresql://***@b"),
    ],
)  # fmt: skip
def test_a_dsn_that_does_not_parse_cleanly_is_refused_and_masked_whole(
    text: str, shown: str
) -> None:
    with pytest.raises(UsageError) as info:
        Dsn.parse(text)
    message = str(info.value)
    assert message.startswith(f"malformed DSN {shown}: ")
    assert "URL-encoded" in message
    for fragment in ("Secret", "2024", "Sec", "ret", "Pa", "w%rd", "two", "a b", "application"):
        assert fragment not in message
    assert mask_whole(text) == shown
    assert redact(text) == shown


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty DSN"),
        ("mysql://u:pw@h/db", "needs a PostgreSQL URL"),
        ("postgresql://u:pw@h:notaport/db", "port 'notaport' is not a number"),
        ("host=h password=hunter2 dbname", 'missing "=" after "***"'),
        ("host=h password=hun ter2", 'missing "=" after "***"'),
        ("host=h password='unterminated", "unterminated quoted string"),
        ("postgresql://u:pw@h/db?nosuch=1", 'invalid URI query parameter: "***"'),
    ],
)
def test_malformed_dsns_are_usage_errors_without_a_piece_of_the_password(
    text: str, says: str
) -> None:
    with pytest.raises(UsageError) as info:
        Dsn.parse(text)
    message = str(info.value)
    assert says in message, message
    for fragment in ("pw", "hunter2", "hun", "ter2", "unterminated"):
        assert fragment not in message.replace("unterminated quoted", "")


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("to postgresql://u:pw@h/db failed", "to postgresql://u:***@h/db failed"),
        ("to postgresql://u@h/db failed", "to postgresql://u@h/db failed"),
        ("to postgresql://u2:Secret@2024@127.0.0.1/db", "to postgresql://***@127.0.0.1/db"),
        ("to postgresql://u2:Sec/ret 20 24@h/db: no", "to postgresql://***@h/db: no"),
        ("a postgresql://u:x@h and b mysql://v:y@k", "a postgresql://***@k"),
        ("host=h password='a b' user=u", "host=h password=*** user=u"),
        ("host=h PASSWORD = s3cret user=u", "host=h PASSWORD = *** user=u"),
    ],
)
def test_scrub_masks_every_url_up_to_the_last_at_of_its_line(text: str, scrubbed: str) -> None:
    assert scrub(text) == scrubbed


def test_scrub_replaces_a_secret_in_every_spelling() -> None:
    secret = "Gj/7:x@y z"
    text = f"raw {secret} encoded Gj%2F7%3Ax%40y%20z path-encoded Gj/7%3Ax%40y%20z"
    assert scrub(text, secret) == "raw *** encoded *** path-encoded ***"
    assert scrub(text, "Gj%2F7%3Ax%40y%20z") == "raw *** encoded *** path-encoded ***"


def test_password_of_a_dsn_that_does_not_parse_is_the_one_it_presumably_holds() -> None:
    assert password_of("postgresql://u2:Secret@2024@127.0.0.1/billig") == "Secret@2024"
    assert password_of("postgresql://ro:s%40cret@h/db") == "s@cret"
    assert password_of("host=h password='a b' dbname") == "a b"
    assert password_of("postgresql://h/db") is None


def test_parsing_and_showing_a_dsn_needs_no_sqlalchemy() -> None:
    code = (
        "import sys; from mirror.dsn import Dsn; from mirror.secrets import redact, scrub;"
        "import mirror.sources.introspect, mirror.drift.check, mirror.provision.providers;"
        "Dsn.parse('postgresql://u:p@h/db').masked(); redact('host=h'); scrub('x');"
        "sys.exit('sqlalchemy' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
