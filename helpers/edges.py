"""Edge maps for a canny ControlNet: white contours on black, the picture's own size, built on Pillow.

`diffusers/controlnet-canny-sdxl-1.0` was trained on Canny edge maps (OpenCV's `cv2.Canny`). OpenCV is not a course
dependency, so `edge_map` approximates Canny with Pillow's filters, in Canny's own steps:
1. smooth: a Gaussian blur whose radius grows with the picture (2 px at 1024, none to speak of at 32), so that a
   photograph's texture (grain, fabric, foliage) does not become edges;
2. gradient: how much each colour channel varies in a 3x3 neighbourhood (`MaxFilter` minus `MinFilter`), the largest
   of the three channels, so that two colours of equal brightness still have an edge between them;
3. thin: keep only pixels whose gradient is (within 2 levels) the largest of their 3x3 neighbourhood, a crude form of
   Canny's non-maximum suppression, which leaves lines 1-2 pixels wide;
4. threshold: a fixed gradient level (as Canny's thresholds are fixed), and no edges on the picture's frame.

Pillow's own `ImageFilter.FIND_EDGES` (a Laplacian) was measured first and not used: after the blur a photograph
needs, a Laplacian's response at a real contour is a few grey levels, below the texture it is meant to ignore (on a
textured 1024x1024 test picture no threshold gave both clear contours and little texture). Differences from Canny:
no hysteresis (weak edges connected to strong ones are not kept) and a cruder thinning. (13_prompt_weights_and_controlnet)
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageChops, ImageFilter

from .i18n import _

BLUR_PER_PIXEL = 1 / 512  # the blur's radius, per pixel of the picture's longer side
THRESHOLD = 20  # grey levels of variation within a 3x3 neighbourhood that make an edge
RIDGE_TOLERANCE = 2  # grey levels below the neighbourhood's largest gradient that still count as its ridge
MODES = ("1", "L", "P", "RGB", "RGBA", "LA", "PA")  # 8-bit pictures (with an alpha channel only if fully opaque)


def edge_map(image: Image.Image) -> Image.Image:
    """White edges on black (RGB, the size of `image`): the control picture a canny ControlNet expects. (13_prompt_weights_and_controlnet)"""
    if not isinstance(image, Image.Image):
        raise TypeError(_("edge_map needs a PIL image, got {kind}. Open a file with PIL.Image.open(path), or turn an "
                          "array into a picture with PIL.Image.fromarray(array).").format(kind=type(image).__name__))
    if min(image.size) < 3:
        raise ValueError(_("edge_map needs a picture at least 3x3 pixels, got {width}x{height}.").format(
            width=image.size[0], height=image.size[1]))
    if image.mode not in MODES:
        raise ValueError(_("edge_map needs an 8-bit picture (grey, RGB or palette), got mode {mode!r}: converting "
                           "it would clip or distort its values (16-bit and floating-point grey, CMYK, ...). Make it 8-bit "
                           "RGB yourself first, e.g. scale its values to 0-255 and use "
                           "PIL.Image.fromarray(array.astype('uint8')).").format(mode=image.mode))
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        if np.asarray(image.convert("RGBA"))[..., 3].min() < 255:
            raise ValueError(_("edge_map: the picture has transparency (mode {mode!r}); its edges would be those of "
                               "whatever colours sit under the transparent pixels. Put it on a background first: "
                               "helpers.prepare_image(picture) composites it onto white.").format(mode=image.mode))
    radius = max(image.size) * BLUR_PER_PIXEL
    smooth = image.convert("RGB").filter(ImageFilter.GaussianBlur(radius))
    variation = ImageChops.subtract(smooth.filter(ImageFilter.MaxFilter(3)), smooth.filter(ImageFilter.MinFilter(3)))
    gradient = np.asarray(variation).max(axis=2)
    neighbourhood_max = np.asarray(Image.fromarray(gradient).filter(ImageFilter.MaxFilter(3)))
    edges = (gradient.astype(int) >= neighbourhood_max.astype(int) - RIDGE_TOLERANCE) & (gradient > THRESHOLD)
    edges[0], edges[-1], edges[:, 0], edges[:, -1] = False, False, False, False
    return Image.fromarray(np.where(edges, 255, 0).astype(np.uint8)).convert("RGB")
