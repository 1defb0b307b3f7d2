"""Specification of helpers.hub: where the Hugging Face token comes from, and that it is never shown.

Fake tokens are built at run time so that no token-shaped string is ever written into the repository.
"""

import sys
import types

import huggingface_hub
import pytest

from helpers.hub import MissingTokenError, describe_token, get_token

ENVIRONMENT_TOKEN = "hf_" + "e" * 34
COLAB_TOKEN = "hf_" + "c" * 34
STORED_TOKEN = "hf_" + "s" * 34


@pytest.fixture
def no_token_anywhere(monkeypatch):
    """No HF_TOKEN, not on Colab, and no stored login (whatever the machine running the tests has)."""
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None)


def pretend_to_be_colab(monkeypatch, secret_lookup):
    """Install a fake `google.colab.userdata` whose `get` is `secret_lookup`."""
    google = types.ModuleType("google")
    colab = types.ModuleType("google.colab")
    userdata = types.ModuleType("google.colab.userdata")
    userdata.get = secret_lookup
    colab.userdata = userdata
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab.userdata", userdata)


class SecretNotFoundError(Exception):
    """Stands in for google.colab.userdata.SecretNotFoundError."""


def test_get_token_reads_HF_TOKEN_from_the_environment(no_token_anywhere, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", ENVIRONMENT_TOKEN)
    assert get_token() == ENVIRONMENT_TOKEN


def test_get_token_ignores_surrounding_whitespace_in_HF_TOKEN(no_token_anywhere, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", f"  {ENVIRONMENT_TOKEN}\n")
    assert get_token() == ENVIRONMENT_TOKEN


def test_get_token_treats_an_empty_HF_TOKEN_as_missing(no_token_anywhere, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "")
    assert get_token() is None


def test_get_token_returns_none_when_no_token_is_found_and_none_is_required(no_token_anywhere):
    assert get_token() is None


def test_get_token_required_raises_MissingTokenError_that_says_how_to_provide_one(no_token_anywhere):
    with pytest.raises(MissingTokenError) as error:
        get_token(required=True)
    message = str(error.value)
    assert isinstance(error.value, RuntimeError)
    assert "export HF_TOKEN=" in message
    assert "Secrets" in message and "HF_TOKEN" in message and "notebook access" in message
    assert "huggingface_hub.login()" in message
    assert "Never paste a token into a notebook cell" in message


def test_get_token_reads_the_colab_secret_when_running_in_colab(no_token_anywhere, monkeypatch):
    asked_for = []
    pretend_to_be_colab(monkeypatch, lambda name: asked_for.append(name) or COLAB_TOKEN)
    assert get_token() == COLAB_TOKEN
    assert asked_for == ["HF_TOKEN"]


def test_get_token_prefers_HF_TOKEN_over_the_colab_secret(no_token_anywhere, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", ENVIRONMENT_TOKEN)
    pretend_to_be_colab(monkeypatch, lambda name: COLAB_TOKEN)
    assert get_token() == ENVIRONMENT_TOKEN


def test_get_token_treats_a_missing_colab_secret_as_no_token(no_token_anywhere, monkeypatch):
    def secret_not_found(name):
        raise SecretNotFoundError(name)

    pretend_to_be_colab(monkeypatch, secret_not_found)
    assert get_token() is None
    with pytest.raises(MissingTokenError):
        get_token(required=True)


def test_get_token_falls_back_to_huggingface_hubs_stored_login(no_token_anywhere, monkeypatch):
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: STORED_TOKEN)
    assert get_token() == STORED_TOKEN


def test_get_token_falls_back_to_the_stored_login_when_the_colab_secret_is_missing(no_token_anywhere, monkeypatch):
    def secret_not_found(name):
        raise SecretNotFoundError(name)

    pretend_to_be_colab(monkeypatch, secret_not_found)
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: STORED_TOKEN)
    assert get_token() == STORED_TOKEN


def test_get_token_prefers_the_colab_secret_over_the_stored_login(no_token_anywhere, monkeypatch):
    pretend_to_be_colab(monkeypatch, lambda name: COLAB_TOKEN)
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: STORED_TOKEN)
    assert get_token() == COLAB_TOKEN


def test_describe_token_shows_only_the_hf_prefix_and_the_length():
    description = describe_token(ENVIRONMENT_TOKEN)
    assert description == f"a token is set (hf_…, {len(ENVIRONMENT_TOKEN)} characters)"
    assert ENVIRONMENT_TOKEN[:4] not in description


def test_describe_token_shows_nothing_of_a_token_without_the_hf_prefix():
    token = "abc" + "d" * 20
    description = describe_token(token)
    assert "23 characters" in description
    assert "abc" not in description and "ddd" not in description


def test_describe_token_says_no_token_for_none():
    assert describe_token(None) == "no token"


def test_the_token_never_reaches_stdout_or_stderr(no_token_anywhere, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", ENVIRONMENT_TOKEN)
    print(describe_token(get_token(required=True)))
    monkeypatch.delenv("HF_TOKEN")
    pretend_to_be_colab(monkeypatch, lambda name: COLAB_TOKEN)
    print(describe_token(get_token()))
    monkeypatch.setattr(sys.modules["google.colab"].userdata, "get", lambda name: None)
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: STORED_TOKEN)
    print(describe_token(get_token()))
    captured = capsys.readouterr()
    printed = captured.out + captured.err
    assert printed.count("a token is set") == 3, "the three lookups did not all find their token"
    for token in (ENVIRONMENT_TOKEN, COLAB_TOKEN, STORED_TOKEN):
        assert token not in printed and token[3:12] not in printed
