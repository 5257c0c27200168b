"""Case photos: what is accepted, what is read from EXIF, and storing the file and its row together.

The stored file is the uploaded bytes, untouched (EXIF included): it is
evidence. That is also why it never gets a public URL; cases.views.photo
serves it to those who may see the case.

Decode budgets (docs/photos.md has the measured cost of the worst file each
admits). Before any decoder runs, the header (cases.image_headers) is held to:
- MAX_PIXELS, every frame counted, for every format;
- MAX_DECODE_BYTES, what a full decode must allocate (width × height × bands ×
  bytes per band × frames), whoever decodes the photo later;
- and what checking it here costs: a JPEG is decoded at 1/8 scale, but a
  progressive one needs libjpeg's whole coefficient buffer (MAX_JPEG_BUFFER);
  a PNG is only verified (CRCs), never inflated; Pillow's WebP decoder cannot
  scale and allocates about 16 bytes a pixel, so WebP has its own, smaller
  pixel budget (MAX_WEBP_PIXELS).
HEIC/HEIF and AVIF (told by their `ftyp` brand) are refused with their own
message: no HEIF decoder is installed, and iOS browsers hand a file input a
JPEG anyway, so only a file copied off the phone arrives as HEIC.
"""

import datetime
import math
import struct
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import ExifTags, Image

from cases.image_headers import Header, read_header
from cases.models import Case, CasePhoto
from governance.geocheck import check_point

# What Pillow says the bytes are (never the file name) → the extension we store them under.
# MPO is a JPEG with more pictures appended (phones add depth maps or previews): it is stored as one.
EXTENSIONS = {"JPEG": ".jpg", "MPO": ".jpg", "PNG": ".png", "WEBP": ".webp"}
CONTENT_TYPES = {".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}
MAX_BYTES = 10 * 1024 * 1024
# 50 MP admits the 48/50 MP modes of current phones; it also bounds what decoding may allocate.
MAX_PIXELS = 50_000_000
# A 50 MP photo with four 8-bit bands (RGBA, CMYK): 16-bit or many-frame files beyond it are refused.
MAX_DECODE_BYTES = MAX_PIXELS * 4
# Admits a 50 MP progressive 4:2:0 JPEG (143 MiB); 4:4:4 or CMYK progressive ones only to ~27 / ~20 MP.
MAX_JPEG_BUFFER = 150 * 2**20
# Pillow's WebP decoder holds ~16 bytes a pixel (two canvases, the image, a copy): 9 MP ≈ 140 MiB.
# It admits a 4K screenshot (8.3 MP); cameras do not shoot WebP.
MAX_WEBP_PIXELS = 9_000_000
# Pillow's own bomb guard (a warning above it, an error above twice it) agrees with ours: it then
# never refuses what passes here, and stops anything else in the process that opens a bigger image.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# What Pillow raises on bytes that claim to be an image but are not a whole one.
DAMAGED = (OSError, SyntaxError, ValueError, EOFError, struct.error)
WGS84_DATUMS = {"", "WGS84", "WGS-84", "WGS 84"}


@dataclass(frozen=True)
class PhotoFacts:
    extension: str
    taken_at: datetime.datetime | None
    taken_where: Point | None


def case_photo_add(*, case: Case, kind: str, upload: UploadedFile, user) -> CasePhoto:
    """Check the upload, read when and where it was taken, and store file and row, or neither.

    Call it outside a transaction: an outer rollback would keep the file.
    """
    facts = photo_inspect(upload)
    photo = CasePhoto(case=case, kind=kind, uploaded_by=user, taken_at=facts.taken_at, taken_where=facts.taken_where)
    photo.full_clean(exclude=["image"])
    # Our name, not the uploader's: the folder and the extension say what the bytes are.
    photo.image.save(f"{uuid.uuid4().hex}{facts.extension}", upload, save=False)
    try:
        with transaction.atomic():
            photo.save()
    except BaseException:  # whatever stopped the row, including a worker's timeout, must not leave the file
        photo.image.delete(save=False)
        raise
    return photo


def photo_inspect(upload: UploadedFile) -> PhotoFacts:
    """Raise ValidationError unless the upload is a whole JPEG, PNG or WebP of a sane size."""
    if upload.size > MAX_BYTES:
        raise _invalid(_("The photo is larger than %(mb)d MB.") % {"mb": MAX_BYTES // 2**20}, "photo_too_large")
    try:
        header = read_header(upload)
        _check_budget(header)
        upload.seek(0)
        with Image.open(upload, formats=[header.format]) as image:
            facts = PhotoFacts(EXTENSIONS[image.format], *_exif_facts(image))
            _decode(image)
    except Image.DecompressionBombError as error:
        raise _too_many_pixels() from error
    except Image.UnidentifiedImageError as error:
        raise _wrong_format() from error
    except DAMAGED as error:
        raise _invalid(_("The photo is damaged or incomplete; take or export it again."), "photo_damaged") from error
    finally:
        upload.seek(0)
    return facts


def _check_budget(header: Header | None) -> None:
    """Refuse, from the header alone, what would cost too much to decode (the module docstring)."""
    if header is None:
        raise _wrong_format()
    if header.format == "HEIF":
        raise _invalid(
            _(
                "HEIC/HEIF and AVIF photos are not accepted. Choose the photo through the browser's upload "
                "button (iPhones then send a JPEG), or set the camera to 'Most Compatible'."
            ),
            "photo_heic",
        )
    if header.pixels > MAX_PIXELS:
        raise _too_many_pixels()
    if header.decode_bytes > MAX_DECODE_BYTES:
        raise _too_costly(header.decode_bytes, MAX_DECODE_BYTES)
    if header.buffer_bytes > MAX_JPEG_BUFFER:
        raise _too_costly(header.buffer_bytes, MAX_JPEG_BUFFER)
    if header.format == "WEBP" and header.pixels > MAX_WEBP_PIXELS:
        raise _invalid(
            _("A WebP photo may have at most %(mp)d megapixels (every frame counted); upload it as JPEG.")
            % {"mp": MAX_WEBP_PIXELS // 10**6},
            "photo_too_large",
        )


def _decode(image: Image.Image) -> None:
    """Read the whole image, so a truncated or broken file is refused now, not when someone opens it."""
    if image.format == "PNG":
        image.verify()  # every chunk's CRC (every APNG frame's too), without inflating the pixels
        return
    if image.format == "WEBP":
        for frame in range(image.n_frames):  # an animation's frames: within MAX_WEBP_PIXELS in all
            image.seek(frame)
            image.load()
        return
    # The primary picture of a JPEG (of an MPO too: the header budgeted that one), at 1/8 scale: same bytes read.
    image.draft(image.mode, (image.width // 8, image.height // 8))
    image.load()


def _exif_facts(image: Image.Image) -> tuple[datetime.datetime | None, Point | None]:
    if image.format == "PNG" and "exif" not in image.info:
        return None, None  # Pillow would inflate every pixel looking for an eXIf chunk after the image data
    try:
        exif = image.getexif()
        exif_tags, gps_tags = exif.get_ifd(ExifTags.IFD.Exif), exif.get_ifd(ExifTags.IFD.GPSInfo)
    except DAMAGED:
        return None, None  # a broken EXIF block makes the time and place unknown, not the photo bad
    return _taken_at(exif_tags), _taken_where(gps_tags)


def _taken_at(tags: dict) -> datetime.datetime | None:
    raw = _text(tags.get(ExifTags.Base.DateTimeOriginal))
    try:
        taken = datetime.datetime.strptime(raw, "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None  # absent, blank ("    :  :  ") or malformed: unknown, not an error
    try:
        offset = datetime.datetime.strptime(_text(tags.get(ExifTags.Base.OffsetTimeOriginal)), "%z").tzinfo
    except ValueError:
        offset = None
    # Without an offset the camera's clock is local time, which here is the city's.
    return taken.replace(tzinfo=offset) if offset else timezone.make_aware(taken, timezone.get_default_timezone())


def _taken_where(tags: dict) -> Point | None:
    """The GPS position as a WGS84 point; None when absent, malformed or on another datum."""
    if _text(tags.get(ExifTags.GPS.GPSMapDatum)).upper() not in WGS84_DATUMS:
        return None
    try:
        lat = _degrees(tags[ExifTags.GPS.GPSLatitude], tags.get(ExifTags.GPS.GPSLatitudeRef), negative="S")
        lng = _degrees(tags[ExifTags.GPS.GPSLongitude], tags.get(ExifTags.GPS.GPSLongitudeRef), negative="W")
        lng, lat = check_point(lng=lng, lat=lat)  # a GeometryError is a ValueError: unknown, not an error
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    # (0, 0) is what some phones write when they have no fix.
    if (lat, lng) == (0, 0):
        return None
    point = Point(lng, lat, srid=4326)
    if settings.STORAGE_SRID != 4326:
        point.transform(settings.STORAGE_SRID)
    return point


def _degrees(dms, ref, *, negative: str) -> float:
    degrees, minutes, seconds = (float(part) for part in dms)
    value = degrees + minutes / 60 + seconds / 3600
    if not math.isfinite(value):
        raise ValueError("not a number")  # a rational with a zero denominator
    return -value if _text(ref).upper() == negative else value


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return value.strip("\x00 ") if isinstance(value, str) else ""


def _wrong_format() -> ValidationError:
    return _invalid(_("Upload a JPEG, PNG or WebP photo."), "photo_format")


def _too_costly(needed: int, limit: int) -> ValidationError:
    return _invalid(
        _(
            "Checking this photo would take %(needed)d MB of memory, more than the %(limit)d MB allowed. "
            "Upload the camera's original JPEG."
        )
        % {"needed": math.ceil(needed / 2**20), "limit": limit // 2**20},
        "photo_too_large",
    )


def _too_many_pixels() -> ValidationError:
    return _invalid(_("The photo has more than %(mp)d megapixels.") % {"mp": MAX_PIXELS // 10**6}, "photo_too_large")


def _invalid(message, code: str) -> ValidationError:
    return ValidationError({"image": ValidationError(message, code=code)})
