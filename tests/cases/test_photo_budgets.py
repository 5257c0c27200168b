"""Decode budgets: the worst photo each format admits, inspected in a fresh process whose peak memory is
measured, and the files refused from their header alone (docs/photos.md has the figures)."""

import io
import json
import os
import struct
import subprocess
import sys
import zlib

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from cases import image_headers, photos
from tests.cases.test_photos import exif_block

MiB = 2**20
# The stated ceiling for inspecting one upload (docs/photos.md), and for what costs almost nothing.
INSPECT_BUDGET = 160 * MiB
SMALL = 16 * MiB

# The child resets its peak RSS (VmHWM) just before inspecting, so the peak it reads after is the
# inspection's own, not Django's start-up.
MEASURE = """
import json, sys, django
django.setup()
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from cases import photos

def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key))

upload = SimpleUploadedFile("x", open(sys.argv[1], "rb").read())
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
before = status("VmRSS:")
try:
    photos.photo_inspect(upload)
    outcome = "ok"
except ValidationError as error:
    outcome = error.error_dict["image"][0].code
print(json.dumps({"increase": status("VmHWM:") - before, "outcome": outcome}))
"""


def inspect_in_a_fresh_process(path) -> tuple[int, str]:
    if not os.access("/proc/self/clear_refs", os.W_OK):
        pytest.skip("measuring peak memory needs Linux's /proc/self/clear_refs")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "governance.settings", "DEBUG": "1"}
    done = subprocess.run([sys.executable, "-c", MEASURE, str(path)], cwd=settings.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    return result["increase"], result["outcome"]


def scene(size, mode="RGB") -> Image.Image:
    """A smooth scene: compresses like a photo of a street, not like noise, so 50 MP fits in 10 MB."""
    ramp = Image.linear_gradient("L").resize(size)
    bands = (ramp, ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT), ramp.transpose(Image.Transpose.FLIP_TOP_BOTTOM))
    image = Image.merge("RGB", bands)
    return image.convert(mode) if mode != "RGB" else image


def save(image_or_frames, path, fmt, **options):
    frames = image_or_frames if isinstance(image_or_frames, list) else [image_or_frames]
    frames[0].save(path, fmt, save_all=len(frames) > 1, append_images=frames[1:], **options)
    assert path.stat().st_size <= photos.MAX_BYTES
    return path


FIFTY_MP = (8160, 6120)  # 49.9 MP: the 50 MP mode of current phones


@pytest.fixture(scope="module")
def worst(tmp_path_factory):
    """The costliest file each format admits."""
    folder = tmp_path_factory.mktemp("worst")
    photo = scene(FIFTY_MP)
    frames = [scene((1000, 1000)).rotate(angle) for angle in range(0, 45, 5)]  # 9 × 1 MP
    files = {
        "jpeg_50mp_phone": save(photo, folder / "phone.jpg", "JPEG", quality=90, exif=exif_block()),
        "jpeg_50mp_progressive": save(photo, folder / "progressive.jpg", "JPEG", quality=90, progressive=True),
        "png_50mp_rgba": save(photo.convert("RGBA"), folder / "rgba.png", "PNG"),
        "webp_9mp_rgba": save(scene((3000, 3000), "RGBA"), folder / "rgba.webp", "WEBP", lossless=True, quality=0),
        "webp_9mp_lossy": save(scene((3000, 3000)), folder / "lossy.webp", "WEBP", quality=80),
        "webp_animated_9x1mp": save(frames, folder / "animated.webp", "WEBP", quality=80),
        "apng_9x1mp": save(frames, folder / "animated.png", "PNG"),
    }
    return files


@pytest.mark.parametrize(
    ("name", "budget"),
    [
        ("jpeg_50mp_phone", SMALL),  # baseline, decoded at 1/8 scale
        ("jpeg_50mp_progressive", INSPECT_BUDGET),  # libjpeg's coefficient buffer: 143 MiB
        ("png_50mp_rgba", SMALL),  # verified, never inflated
        ("webp_9mp_rgba", INSPECT_BUDGET),  # Pillow's WebP decoder: ~16 bytes a pixel
        ("webp_9mp_lossy", INSPECT_BUDGET),
        ("webp_animated_9x1mp", INSPECT_BUDGET),  # two canvases of 1 MP, whatever the number of frames
        ("apng_9x1mp", SMALL),
    ],
)
def test_the_worst_allowed_file_of_each_format_stays_within_its_memory_budget(worst, name, budget):
    increase, outcome = inspect_in_a_fresh_process(worst[name])
    print(f"{name}: peak RSS +{increase / MiB:.1f} MiB")  # the figures of docs/photos.md (pytest -s)
    assert outcome == "ok"
    assert increase < budget, f"{name}: +{increase / MiB:.0f} MiB"


def test_the_webp_bomb_is_refused_before_anything_is_allocated(tmp_path):
    """The file found on the running product: ~90 kB declaring 7,000 × 7,000, once +750 MiB and 1.7 s."""
    bomb = save(Image.new("RGB", (7000, 7000), "white"), tmp_path / "bomb.webp", "WEBP", quality=50)
    assert bomb.stat().st_size < 200_000
    increase, outcome = inspect_in_a_fresh_process(bomb)
    assert outcome == "photo_too_large"
    assert increase < SMALL, f"+{increase / MiB:.0f} MiB"


# --- Refused from the header ----------------------------------------------------------------


def refusal(data: bytes) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        photos.photo_inspect(SimpleUploadedFile("x", data))
    return caught.value.error_dict["image"][0]


def encoded(image_or_frames, fmt, **options) -> bytes:
    frames = image_or_frames if isinstance(image_or_frames, list) else [image_or_frames]
    buffer = io.BytesIO()
    frames[0].save(buffer, fmt, save_all=len(frames) > 1, append_images=frames[1:], **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_a_webp_over_its_pixel_budget_is_refused_with_its_own_message(english):
    error = refusal(encoded(Image.new("RGB", (4000, 2300)), "WEBP"))  # 9.2 MP
    assert error.code == "photo_too_large"
    assert error.message == "A WebP photo may have at most 9 megapixels (every frame counted); upload it as JPEG."


def test_an_animated_webp_counts_every_frame():
    frames = [scene((1000, 1000)).rotate(angle) for angle in range(0, 50, 5)]  # 10 MP in all
    assert image_headers.read_header(io.BytesIO(data := encoded(frames, "WEBP", quality=80))).frames == 10
    assert refusal(data).code == "photo_too_large"


def test_an_apng_with_many_frames_is_refused():
    frames = [Image.new("RGB", (1000, 1000), (i, 0, 0)) for i in range(51)]  # 51 MP in all, in 260 kB
    data = encoded(frames, "PNG")
    assert len(data) < 300_000
    assert refusal(data).code == "photo_too_large"


def test_a_png_declaring_a_huge_size_in_a_tiny_file_is_refused():
    ihdr = struct.pack(">IIBBBBB", 60_000, 60_000, 8, 6, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
    assert refusal(data).code == "photo_too_large"


def test_a_16_bit_png_is_held_to_the_decode_bytes(english):
    ihdr = struct.pack(">IIBBBBB", 6000, 5000, 16, 6, 0, 0, 0)  # 30 MP × 4 bands × 2 bytes = 240 MB
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
    error = refusal(data)
    assert error.code == "photo_too_large" and "would take 229 MB of memory, more than the 190 MB" in error.message


def test_a_progressive_4_4_4_jpeg_over_the_buffer_budget_is_refused():
    data = encoded(Image.new("RGB", (7000, 6000)), "JPEG", progressive=True, subsampling=0)  # 42 MP: 240 MiB
    header = image_headers.read_header(io.BytesIO(data))
    assert header.buffer_bytes > photos.MAX_JPEG_BUFFER and header.pixels < photos.MAX_PIXELS
    assert refusal(data).code == "photo_too_large"


def test_a_baseline_jpeg_needs_no_buffer_and_a_progressive_one_does():
    image = Image.new("RGB", (160, 120))
    baseline = image_headers.read_header(io.BytesIO(encoded(image, "JPEG")))
    progressive = image_headers.read_header(io.BytesIO(encoded(image, "JPEG", progressive=True)))
    assert (baseline.width, baseline.height, baseline.bands, baseline.buffer_bytes) == (160, 120, 3, 0)
    # 4:2:0: 20 × 15 luma blocks and 10 × 8 of each chroma, 128 bytes a block.
    assert progressive.buffer_bytes == (20 * 15 + 2 * 10 * 8) * 128


@pytest.mark.parametrize("brand", [b"heic", b"heix", b"hevc", b"mif1", b"msf1", b"avif"])
def test_heic_and_avif_are_refused_by_their_brand(brand, english):
    compatible = b"" if brand == b"mif1" else b"mif1" + brand
    major = b"mif1" if brand == b"msf1" else brand  # a sequence names msf1 as compatible
    ftyp = major + b"\0\0\0\0" + compatible + (b"msf1" if brand == b"msf1" else b"")
    data = struct.pack(">I", 8 + len(ftyp)) + b"ftyp" + ftyp + b"\0\0\0\x08mdat" + b"\0" * 1000
    error = refusal(data)
    assert error.code == "photo_heic"
    assert error.message.startswith("HEIC/HEIF and AVIF photos are not accepted.")


def test_an_mp4_is_not_taken_for_heic():
    data = struct.pack(">I", 24) + b"ftypisom\0\0\0\0isomavc1" + b"\0" * 100
    assert refusal(data).code == "photo_format"


def test_a_truncated_webp_is_damaged():
    data = encoded(Image.new("RGB", (300, 200), "white"), "WEBP", quality=80)
    assert refusal(data[:-40]).code == "photo_damaged"


def test_pillows_bomb_guard_agrees_with_the_budget():
    assert Image.MAX_IMAGE_PIXELS == photos.MAX_PIXELS
