"""Images: adimages answers keyed by filename, hashes are content hashes."""

from __future__ import annotations

import base64
import hashlib

from tests.fakes.graph_server.errors import GraphError
from tests.fakes.graph_server.routing import RouteBase


class ImageRoutes(RouteBase):
    def post_account_adimages(self) -> tuple[int, dict]:
        if self.request.files:
            field_name, (filename, data) = next(iter(self.request.files.items()))
            filename = filename or field_name
        elif self.params.get("bytes"):
            data = base64.b64decode(str(self.params["bytes"]))
            filename = str(self.params.get("name") or "bytes")
        else:
            raise GraphError("(#100) Image file or bytes required", code=100)
        digest = hashlib.md5(data).hexdigest()  # noqa: S324 - a fake content hash
        url = f"{self.fake.base_url}/fake-images/{digest}.jpg"
        self.state.images.setdefault(
            digest,
            {
                "id": digest,
                "hash": digest,
                "name": filename,
                "url": url,
                "size": len(data),
            },
        )
        return 200, {"images": {filename: {"hash": digest, "url": url}}}
