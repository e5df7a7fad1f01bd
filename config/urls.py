import re

from django.contrib import admin
from django.templatetags.static import static
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.generic import RedirectView

from config.media import media_serve, media_url_prefix
from creative_engine.console.steering import steering_urls

urlpatterns: list[URLPattern | URLResolver] = [
    # The console's steering pages sit beside the admin's, behind the same login.
    path("admin/console/", include(steering_urls())),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico whatever the page says; the console's icon answers.
    path(
        "favicon.ico",
        RedirectView.as_view(url=static("console/favicon.svg"), permanent=True),
    ),
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
