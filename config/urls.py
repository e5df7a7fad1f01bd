import re

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path

from config.media import media_serve, media_url_prefix

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("meta/creative-engine/", include("creative_engine.api.engine_urls")),
    path("api/", include("creative_engine.api.resource_urls")),
]

# Media are served here, DEBUG or not, with Range (seeking, fragment cuts) and only to
# staff with an engine role, unless MEDIA_SERVED_BY_DJANGO says a front server does.
if (_media_prefix := media_url_prefix()) is not None:
    urlpatterns.append(
        re_path(
            rf"^{re.escape(_media_prefix)}/(?P<path>.+)$", media_serve, name="media"
        )
    )
