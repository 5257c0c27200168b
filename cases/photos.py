"""Case photos: what is accepted, what is read from EXIF, and storing the file and its row together.

The stored file is the uploaded bytes, untouched (EXIF included): it is
evidence. That is also why it never gets a public URL; cases.views.photo
serves it to those who may see the case.
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

from cases.models import Case, CasePhoto

# What Pillow says the bytes are (never the file name) → the extension we store them under.
EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}
CONTENT_TYPES = {".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}
MAX_BYTES = 10 * 1024 * 1024
# 50 MP admits the 48/50 MP modes of current phones; it also bounds what decoding may allocate.
MAX_PIXELS = 50_000_000
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
        upload.seek(0)
        with Image.open(upload, formats=list(EXTENSIONS)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise _too_many_pixels()
            facts = PhotoFacts(EXTENSIONS[image.format], *_exif_facts(image))
            _decode(image)
    except Image.DecompressionBombError as error:
        raise _too_many_pixels() from error
    except Image.UnidentifiedImageError as error:
        raise _invalid(_("Upload a JPEG, PNG or WebP photo."), "photo_format") from error
    except DAMAGED as error:
        raise _invalid(_("The photo is damaged or incomplete; take or export it again."), "photo_damaged") from error
    finally:
        upload.seek(0)
    return facts


def _decode(image: Image.Image) -> None:
    """Read the whole image, so a truncated or broken file is refused now, not when someone opens it."""
    if image.format == "PNG":
        image.verify()  # every chunk's CRC, without inflating up to 200 MB of pixels
        return
    if image.format == "JPEG":
        image.draft(image.mode, (image.width // 8, image.height // 8))  # decode at 1/8 scale: same bytes read
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
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    # (0, 0) is what some phones write when they have no fix.
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or (lat, lng) == (0, 0):
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


def _too_many_pixels() -> ValidationError:
    return _invalid(_("The photo has more than %(mp)d megapixels.") % {"mp": MAX_PIXELS // 10**6}, "photo_too_large")


def _invalid(message, code: str) -> ValidationError:
    return ValidationError({"image": ValidationError(message, code=code)})
