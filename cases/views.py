"""Pages of the cases app: the one door to a case photo."""

from pathlib import PurePath

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404

from cases import photos, selectors


@login_required
def photo(request, pk):
    """A case photo, to those who may see its case; 404 to everyone else, as if it did not exist."""
    found = selectors.photo_visible_to(request.user, pk=pk)
    if found is None:
        raise Http404
    try:
        handle = found.image.storage.open(found.image.name, "rb")
    except FileNotFoundError as error:
        raise Http404 from error
    content_type = photos.CONTENT_TYPES.get(PurePath(found.image.name).suffix.lower(), "application/octet-stream")
    response = FileResponse(handle, content_type=content_type)
    # Shared caches must not keep it; the browser may, for the user who was allowed to see it.
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
