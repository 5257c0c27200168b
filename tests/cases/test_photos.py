"""Case photos: real files made by Pillow (EXIF time and GPS read, the bytes kept), the ones refused,
file and row stored together or not at all, and the one permission-checked door they are served through."""

import datetime
import io
import struct
import zlib
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError
from django.urls import Resolver404, get_resolver, resolve, reverse
from django.views.static import serve
from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational

from cases import photos
from cases.models import CasePhoto, Status
from tests.cases.test_visibility import build_world

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
# 30°0'1.8"N 121°30'3.6"E
GPS_NE = {"lat": ((30, 1), (0, 1), (18, 10)), "lat_ref": "N", "lng": ((121, 1), (30, 1), (36, 10)), "lng_ref": "E"}


def exif_block(*, taken: str | None = "2026:03:14 09:26:53", offset: str | None = None, gps: dict | None = None,
               datum: str | None = "WGS-84") -> Image.Exif:  # fmt: skip
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    if taken is not None:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken
    if offset is not None:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.OffsetTimeOriginal] = offset
    if gps is not None:
        tags = exif.get_ifd(ExifTags.IFD.GPSInfo)
        tags[ExifTags.GPS.GPSLatitudeRef], tags[ExifTags.GPS.GPSLatitude] = gps["lat_ref"], rationals(gps["lat"])
        tags[ExifTags.GPS.GPSLongitudeRef], tags[ExifTags.GPS.GPSLongitude] = gps["lng_ref"], rationals(gps["lng"])
        if datum is not None:
            tags[ExifTags.GPS.GPSMapDatum] = datum
    return exif


def rationals(parts):
    return tuple(IFDRational(numerator, denominator) for numerator, denominator in parts)


def picture(size=(64, 48)) -> Image.Image:
    image = Image.new("RGB", size, "white")
    for x in range(0, size[0], 4):  # some detail, so the compressed data is more than a header
        image.putpixel((x, x % size[1]), (200, 30, 30))
    return image


def jpeg(exif: Image.Exif | None = None, size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    picture(size).save(buffer, "JPEG", quality=90, **({"exif": exif} if exif is not None else {}))
    return buffer.getvalue()


def image_bytes(fmt: str, size=(64, 48), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    (picture(size) if mode == "RGB" else Image.new(mode, size)).save(buffer, fmt)
    return buffer.getvalue()


def upload(data: bytes, name="photo.jpg", content_type="image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width × height pixels and holds none: a decompression bomb's first bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


@pytest.fixture
def world(personas):
    return build_world(personas)


@pytest.fixture
def case(world):
    return world.case(Status.DISPATCHED)


def stored_files() -> list:
    root = settings.MEDIA_ROOT / "cases"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def add(case, data: bytes, *, user, kind="before", **kw) -> CasePhoto:
    return photos.case_photo_add(case=case, kind=kind, upload=upload(data, **kw), user=user)


# --- What is read and kept --------------------------------------------------------------


def test_a_jpeg_keeps_its_bytes_and_gives_its_exif_time_and_gps_position(case, personas):
    data = jpeg(exif_block(gps=GPS_NE))
    photo = add(case, data, user=personas["gridworker"], name="../../etc/passwd.jpg")
    assert photo.taken_at == datetime.datetime(2026, 3, 14, 9, 26, 53, tzinfo=SHANGHAI)  # no offset: local time
    assert photo.taken_where.srid == 4326
    assert photo.taken_where.x == pytest.approx(121.501) and photo.taken_where.y == pytest.approx(30.0005)
    # Stored under the case, named by us with the extension of what the bytes are, and untouched: EXIF stays.
    assert photo.image.name.startswith(f"cases/{case.pk}/before-") and photo.image.name.endswith(".jpg")
    assert "passwd" not in photo.image.name
    with photo.image.open("rb") as stored:
        assert stored.read() == data
    photo.refresh_from_db()
    assert (photo.uploaded_by, photo.kind) == (personas["gridworker"], "before")


def test_an_exif_offset_is_honoured_and_southern_western_positions_are_negative(case, personas):
    gps = {"lat": ((33, 1), (52, 1), (0, 1)), "lat_ref": "S", "lng": ((151, 1), (12, 1), (36, 1)), "lng_ref": "W"}
    photo = add(case, jpeg(exif_block(offset="+10:00", gps=gps)), user=personas["dispatcher"])
    assert photo.taken_at == datetime.datetime(2026, 3, 13, 23, 26, 53, tzinfo=datetime.UTC)
    assert (photo.taken_where.x, photo.taken_where.y) == pytest.approx((-151.21, -33.8666667))


@pytest.mark.parametrize(
    "exif",
    [
        exif_block(taken="0000:00:00 00:00:00", gps={**GPS_NE, "lat": ((30, 0), (0, 1), (0, 1))}),  # x/0
        exif_block(taken="    :  :     :  :  ", gps=GPS_NE, datum="TOKYO"),  # another datum: not WGS84
        exif_block(taken=None, gps={**GPS_NE, "lat": ((0, 1), (0, 1), (0, 1)), "lng": ((0, 1), (0, 1), (0, 1))}),
    ],
    ids=["zero-denominator", "other-datum", "no-fix"],
)
def test_unusable_exif_makes_time_and_place_unknown_not_the_photo_bad(case, personas, exif):
    photo = add(case, jpeg(exif), user=personas["dispatcher"])
    assert (photo.taken_at, photo.taken_where) == (None, None)


def test_a_png_without_exif_and_a_webp_are_accepted(case, personas):
    png = add(case, image_bytes("PNG"), user=personas["dispatcher"], name="a.png", content_type="image/png")
    assert (png.taken_at, png.taken_where) == (None, None) and png.image.name.endswith(".png")
    # The name lies; the bytes decide the extension.
    webp = add(case, image_bytes("WEBP"), user=personas["dispatcher"], kind="after", name="b.jpg")
    assert webp.image.name.startswith(f"cases/{case.pk}/after-") and webp.image.name.endswith(".webp")


def test_a_png_with_exif_gives_its_time_too(case, personas):
    buffer = io.BytesIO()
    picture().save(buffer, "PNG", exif=exif_block(gps=GPS_NE))
    photo = add(case, buffer.getvalue(), user=personas["dispatcher"], name="a.png")
    assert photo.taken_at == datetime.datetime(2026, 3, 14, 9, 26, 53, tzinfo=SHANGHAI)
    assert photo.taken_where.y == pytest.approx(30.0005)


# --- What is refused ---------------------------------------------------------------------


def refused(case, personas, data: bytes, code: str, **kw) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        add(case, data, user=personas["dispatcher"], **kw)
    assert [e.code for e in caught.value.error_dict["image"]] == [code]
    assert stored_files() == [] and not CasePhoto.objects.exists()
    return caught.value


def test_a_text_file_named_jpg_is_refused(case, personas, english):
    error = refused(case, personas, b"just some text, honest\n" * 20, "photo_format", name="photo.jpg")
    assert error.message_dict == {"image": ["Upload a JPEG, PNG or WebP photo."]}


def test_a_real_image_of_another_format_is_refused(case, personas):
    refused(case, personas, image_bytes("GIF"), "photo_format", name="a.gif", content_type="image/gif")


def test_a_truncated_jpeg_is_refused_as_damaged(case, personas, english):
    data = jpeg(exif_block(), size=(400, 300))
    error = refused(case, personas, data[: len(data) - 200], "photo_damaged")
    assert "damaged or incomplete" in error.message_dict["image"][0]


def test_a_png_with_a_flipped_byte_is_refused_as_damaged(case, personas):
    data = bytearray(image_bytes("PNG", size=(200, 150)))
    data[len(data) // 2] ^= 0xFF
    refused(case, personas, bytes(data), "photo_damaged", name="a.png")


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(case, personas, english):
    data = jpeg() + b"\0" * photos.MAX_BYTES  # a valid JPEG with 10 MB of trailing padding
    error = refused(case, personas, data, "photo_too_large")
    assert error.message_dict == {"image": ["The photo is larger than 10 MB."]}


def test_too_many_pixels_are_refused_even_when_the_file_is_small(case, personas):
    data = image_bytes("PNG", size=(8000, 6300), mode="1")  # 50.4 MP of nothing: a few kB
    assert len(data) < 100_000
    refused(case, personas, data, "photo_too_large", name="a.png")


def test_a_decompression_bomb_header_is_refused(case, personas):
    refused(case, personas, png_header_only(30_000, 30_000), "photo_too_large", name="a.png")


def test_a_wrong_kind_is_refused_and_nothing_is_stored(case, personas):
    with pytest.raises(ValidationError) as caught:
        add(case, jpeg(), user=personas["dispatcher"], kind="selfie")
    assert "kind" in caught.value.message_dict
    assert stored_files() == [] and not CasePhoto.objects.exists()


def test_when_the_row_cannot_be_written_the_file_is_removed(case, personas, monkeypatch):
    def broken_save(self, *args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(CasePhoto, "save", broken_save)
    with pytest.raises(DatabaseError):
        add(case, jpeg(), user=personas["dispatcher"])
    assert stored_files() == []
    assert not CasePhoto.objects.exists()


# --- Served through one door --------------------------------------------------------------


@pytest.fixture
def photo(case, personas):
    return add(case, jpeg(exif_block(gps=GPS_NE)), user=personas["cg_handler"])


def test_the_photo_is_served_privately_to_who_may_see_the_case(client, personas, photo):
    client.force_login(personas["gridworker"])
    response = client.get(reverse("cases:photo", args=[photo.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"].startswith("private")
    assert response["X-Content-Type-Options"] == "nosniff"
    with photo.image.open("rb") as stored:
        assert b"".join(response.streaming_content) == stored.read()


@pytest.mark.parametrize("who", ["sz_admin", "outsider"])
def test_who_cannot_see_the_case_gets_404_as_if_there_were_no_photo(client, personas, photo, who):
    client.force_login(personas[who])
    assert client.get(reverse("cases:photo", args=[photo.pk])).status_code == 404
    assert client.get(reverse("cases:photo", args=[photo.pk + 1000])).status_code == 404


def test_anonymous_is_sent_to_the_login(client, photo):
    response = client.get(reverse("cases:photo", args=[photo.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_photo_whose_file_is_gone_is_404_not_500(client, personas, photo):
    photo.image.storage.delete(photo.image.name)
    client.force_login(personas["dispatcher"])
    assert client.get(reverse("cases:photo", args=[photo.pk])).status_code == 404


def test_media_url_serves_no_case_photo(client, personas, photo):
    """Not in this configuration (the tests run with DEBUG=1, when static() would add a route) nor any:
    no URL pattern serves MEDIA_ROOT."""
    client.force_login(personas["sysadmin"])
    assert client.get(f"{settings.MEDIA_URL}{photo.image.name}").status_code == 404
    with pytest.raises(Resolver404):
        resolve(f"{settings.MEDIA_URL}{photo.image.name}")

    def callbacks(resolver):
        for pattern in resolver.url_patterns:
            yield from callbacks(pattern) if hasattr(pattern, "url_patterns") else [pattern.callback]

    assert serve not in list(callbacks(get_resolver()))
