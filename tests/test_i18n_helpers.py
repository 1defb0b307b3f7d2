"""The course's own messages in Portuguese: with `helpers.use_language("pt-BR")` the exercises' verdicts and the
parameter checks speak Portuguese, every `_()` message of helpers/ has a current translation in
translations/pt-BR/helpers.po (compiled into helpers/locale/), and English stays the default."""

import pytest
import translations

import helpers
from helpers import exercises
from helpers.checks import ParameterError, whole_number


@pytest.fixture
def portuguese():
    helpers.use_language("pt-BR")
    try:
        yield
    finally:
        helpers.use_language("en")


def test_every_helpers_message_is_translated_and_compiled():
    assert translations.helpers_problems("pt-BR") == []


def test_a_wrong_exercise_answer_is_told_in_portuguese(portuguese, capsys):
    exercises.check_latent_shape((1, 4, 128, 96))  # height and width swapped
    result = exercises.RESULTS["latent_shape"]
    assert result.ok is False and "altura e largura estão trocadas" in result.message
    assert "❌ Ainda não (latent_shape): altura e largura" in capsys.readouterr().out


def test_a_message_with_fields_is_filled_in_portuguese(portuguese):
    exercises.check_what_to_do(lambda status: "retry")  # wrong for 401, 402, 403, 404, 410
    message = exercises.RESULTS["what_to_do"].message
    assert message.startswith("what_to_do(401) não está certo: um 401 significa") and "(mais 4 status também errados)" in message


def test_an_unfinished_exercise_says_so_in_portuguese(portuguese):
    exercises.check_unet_gib(...)
    result = exercises.RESULTS["unet_gib"]
    assert result.ok is None and result.message.startswith("substitua `...` por uma expressão")


def test_a_bad_parameter_is_refused_in_portuguese(portuguese):
    with pytest.raises(ParameterError, match=r"seed=2\.5 não é um número inteiro\. Use, por exemplo, seed=1\."):
        whole_number("seed", 2.5)
    with pytest.raises(ValueError, match="não é divisível por 8.*Tente height=96 ou 104"):
        helpers.check_size(100, 96)


def test_english_stays_the_default_and_comes_back():
    helpers.use_language("pt-BR")
    helpers.use_language("en")
    exercises.check_latent_shape((1, 4, 128, 96))
    assert exercises.RESULTS["latent_shape"].message.startswith("height and width are swapped")
    with pytest.raises(ParameterError, match="seed=2.5 is not a whole number"):
        whole_number("seed", 2.5)


def test_a_memory_plan_shows_its_placement_and_machine_in_portuguese_and_keeps_its_english_names(portuguese):
    import torch

    from helpers.memory import MACHINES, plan_memory

    t4 = MACHINES["colab-t4"]
    plan = plan_memory(["sdxl-base", "sdxl-refiner"], dtype=torch.float16, mode="full", machine=t4)
    assert plan.name == "the UNets take turns on the GPU" and plan.offload == "turns"  # the identifier stays English
    assert plan.label == "as UNets se revezam na GPU" and t4.label == "T4 gratuita do Colab" and t4.name == "free Colab T4"
    assert str(plan).splitlines()[0].endswith("T4 gratuita do Colab: as UNets se revezam na GPU")
    offloaded = plan_memory(["sdxl-base"], dtype=torch.float16, mode="full", machine=t4, placement="model CPU offload")
    assert offloaded.name == "model CPU offload" and offloaded.runs
    tiny_gpu = MACHINES["consumer-6gb"]
    too_big = plan_memory(["sdxl-base", "sdxl-refiner"], dtype=torch.float32, mode="full", machine=tiny_gpu, placement="model CPU offload")
    assert not too_big.runs and too_big.name == "none of the placements fits sdxl-base + sdxl-refiner in float32"
    assert too_big.label == "nenhum dos posicionamentos comporta sdxl-base + sdxl-refiner em float32"
    from helpers.memory import recommend_memory_plan, plan_training_memory

    on_a_cpu = recommend_memory_plan("cpu-16gb")  # nothing fits: renamed to the advice, and shown as it
    assert on_a_cpu.name.startswith("tiny mode") and on_a_cpu.label.startswith("modo tiny")
    training = plan_training_memory(["sdxl-base"], lora_parameters=10**6, machine=tiny_gpu, dtype=torch.float32, mode="full")
    assert not training.runs and training.name == "LoRA training of sdxl-base in float32 does not fit"
    assert training.label == "o treinamento da LoRA de sdxl-base em float32 não cabe"
    helpers.use_language("en")
    assert plan.label == plan.name and t4.label == t4.name


def test_the_generation_scripts_summary_speaks_the_lessons_language(portuguese):
    from helpers.generate import describe

    summary = {"made": 3, "already_there": 5, "pictures": 8, "processes": 2, "batch_size": 2, "model": "sdxl-base",
               "mode": "tiny", "seconds": 1.25, "redrawn": 1, "per_process": [
                   {"process": 0, "device": "cpu", "pictures": 3, "seconds": 1.0, "load_seconds": 0.2}]}
    assert describe(summary).splitlines() == [
        "3 imagens feitas, 5 já existiam, de 8 (2 processos, batch de 2, sdxl-base, modo tiny) em 1.2 s",
        "  processo 0 (cpu): 3 imagens em 1.0 s = 3.00 imagens/s (depois de 0.2 s iniciando e carregando)",
        "  1 que já existiam desenhadas de novo (não gravadas): dividem uma chamada com uma imagem que faltava"]


def test_a_process_a_lesson_starts_speaks_its_language(portuguese, tmp_path):
    import os
    import subprocess
    import sys

    assert os.environ["SDXL_TUTORIAL_LANGUAGE"] == "pt-BR"  # set by use_language, inherited by child processes
    run = subprocess.run([sys.executable, "-m", "helpers.generate", "--prompts", str(tmp_path / "missing.txt"),
                          "--out", str(tmp_path / "out")], capture_output=True, text=True, env=os.environ.copy())
    assert run.returncode == 2
    assert f"O arquivo de prompts {tmp_path / 'missing.txt'} não existe." in run.stderr and "Nada foi gravado." in run.stderr


def test_an_unknown_language_in_the_environment_is_ignored_with_a_warning_that_says_why():
    import os
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", "import helpers; print(helpers.i18n.current_language())"],
                         capture_output=True, text=True, env={**os.environ, "SDXL_TUTORIAL_LANGUAGE": "klingon"})
    assert run.returncode == 0 and run.stdout.strip() == "en"
    assert "SDXL_TUTORIAL_LANGUAGE='klingon' is ignored" in run.stderr and "use_language('en')" in run.stderr


def test_the_token_is_described_in_portuguese_and_never_shown(portuguese):
    from helpers.hub import describe_token

    assert describe_token(None) == "nenhum token"
    assert describe_token("hf_" + "x" * 8) == "há um token definido (hf_…, 11 caracteres)"


def test_what_a_measured_peak_counts_is_shown_in_portuguese_and_kept_in_english(portuguese):
    from helpers.device import measure
    from helpers.display import ladder_row

    with measure("one step", device="cpu") as timed:
        sum(range(1000))
    assert timed.memory_kind == "process RSS" and timed.memory_label == "RSS do processo"
    assert "(RSS do processo)" in str(timed) and "(RSS do processo)" in ladder_row("fp32", timed)
    from helpers.i18n import _

    assert _("") == ""  # not the catalogue's header, which gettext returns for ""
