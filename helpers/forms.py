"""The generation form of lessons 05 and 09: widgets wired to a lesson's own `generate`, and its static fallback.

A lesson writes `generate(prompt, negative_prompt, seed, num_inference_steps, guidance_scale) -> picture`
(what it does is the lesson's subject: a local pipeline in 05, a hosted call in 09); this module only
draws the fields and the Generate button around it. Where widgets cannot render (a static viewer such as
GitHub's, a test run), `generation_form` calls `generate` once with the form's starting values instead and
shows that picture. (05_sdxl_base, 09_hosted_inference)
"""

from __future__ import annotations

from dataclasses import dataclass

from .i18n import _

FIELDS = ("prompt", "negative_prompt", "seed", "num_inference_steps", "guidance_scale")


@dataclass
class GenerationForm:
    """The widgets: `fields` (name -> widget, in `generate`'s argument order), `button`, `output`, `widget` (all)."""

    fields: dict
    button: object
    output: object
    widget: object

    def values(self) -> dict:
        """What `generate` will be called with: the fields' current values."""
        return {name: field.value for name, field in self.fields.items()}

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def build_form(generate, *, prompt: str, negative_prompt: str = "", seed: int = 0, num_inference_steps: int = 20,
               guidance_scale: float = 5.0, errors=(ValueError,), preview: int = 256) -> GenerationForm:
    """The form's widgets, wired to `generate`: Generate shows its picture (at most `preview` pixels wide) below
    the button, or the message of an error of the `errors` kinds (a bad input, a refused request) instead."""
    import ipywidgets as widgets
    from IPython.display import display

    fields = dict(prompt=widgets.Text(prompt, description="prompt"),
                  negative_prompt=widgets.Text(negative_prompt or "", description=_("negative")),
                  seed=widgets.IntText(seed, description="seed"),
                  num_inference_steps=widgets.IntSlider(num_inference_steps, min=1, max=max(100, num_inference_steps),
                                                        description=_("steps")),
                  guidance_scale=widgets.FloatSlider(guidance_scale, min=1.0, max=max(15.0, guidance_scale), step=0.5,
                                                     description="guidance"))
    button, output = widgets.Button(description=_("Generate"), button_style="primary"), widgets.Output()
    form = GenerationForm(fields, button, output, widgets.VBox([*fields.values(), button, output]))

    def on_click(_):
        with output:
            output.clear_output(wait=True)
            try:
                picture = generate(**form.values())
            except errors as error:
                print(error)
                return
            if picture.width > preview:
                picture = picture.resize((preview, round(picture.height * preview / picture.width)))
            display(picture)

    button.on_click(on_click)
    return form


def generation_form(generate, *, prompt: str, negative_prompt: str = "", seed: int = 0, num_inference_steps: int = 20,
                    guidance_scale: float = 5.0, errors=(ValueError,)):
    """In a live Jupyter frontend: show the form and return it. Elsewhere: say so, call `generate` once with these
    values, show the picture and return it."""
    from .display import live_frontend, show

    values = dict(prompt=prompt, negative_prompt=negative_prompt or "", seed=seed,
                  num_inference_steps=num_inference_steps, guidance_scale=guidance_scale)
    if live_frontend():
        from IPython.display import display

        form = build_form(generate, errors=errors, **values)
        display(form)
        return form
    print(_("No live Jupyter frontend here (a static viewer, or a test run): the form's Generate runs once, "
            "with the values it starts with."))
    picture = generate(**values)
    show([picture], titles=[f"generate({prompt!r}, seed={seed}, steps={num_inference_steps}, guidance={guidance_scale})"])
    return picture
