"""The Hugging Face token: finding it without ever showing it.

(The hosted-inference calls of 09_hosted_inference, which use it, are in `helpers.hosted`.)
"""

import os
import sys

import huggingface_hub

from .i18n import N_, _


class MissingTokenError(RuntimeError):
    """No Hugging Face token was found; the message says how to provide one (see 00_setup)."""


HOW_TO_PROVIDE_A_TOKEN = N_(  # shown with _(), in the course's language
    'No Hugging Face token was found. Create a "read" token at https://huggingface.co/settings/tokens, then either:\n'
    "  - in a terminal, before starting Jupyter: export HF_TOKEN=...\n"
    "    (a kernel that is already running does not see it: restart the kernel)\n"
    '  - on Colab: click the key icon ("Secrets") in the left sidebar, add a secret named HF_TOKEN\n'
    "    and switch on its notebook access\n"
    "  - or log in once with huggingface_hub.login() (or `hf auth login` in a terminal);\n"
    "    the token is then stored on this machine, not in the notebook\n"
    "Never paste a token into a notebook cell: cells and their outputs get saved and committed."
)


def _from_environment():
    return os.environ.get("HF_TOKEN")


def _from_colab_secrets():
    # os.environ does not see Colab secrets: they sit in a separate vault that only
    # google.colab.userdata can open (huggingface/agents-course#612).
    if "google.colab" not in sys.modules:
        return None
    try:
        from google.colab import userdata

        return userdata.get("HF_TOKEN")
    except Exception:  # SecretNotFoundError, NotebookAccessError, a timeout: all mean "no token here"
        return None


def get_token(required=False):
    """The Hugging Face token, or None: from HF_TOKEN, else Colab's secrets, else huggingface_hub's login.

    With `required=True` a missing token raises MissingTokenError saying how to provide one.
    The token is never printed; use `describe_token` to talk about it. Explained in 00_setup,
    used in 09_hosted_inference.
    """
    for source in (_from_environment, _from_colab_secrets, huggingface_hub.get_token):
        token = (source() or "").strip()
        if token:
            return token
    if required:
        raise MissingTokenError(_(HOW_TO_PROVIDE_A_TOKEN))
    return None


def describe_token(token):
    """A description of `token` that is safe to print: at most its public "hf_" prefix and its length.

    Explained in 00_setup.
    """
    if token is None or token == "":
        return _("no token")
    if not isinstance(token, str):
        raise TypeError(_("A token is a string, got {kind}.").format(kind=type(token).__name__))
    if token.startswith("hf_"):
        return _("a token is set (hf_…, {count} characters)").format(count=len(token))
    return _("a token is set ({count} characters; it does not start with hf_, so check it is a Hugging Face "
             "token)").format(count=len(token))
