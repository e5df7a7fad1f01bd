"""Where marketing staff upload masters, cut and approve fragments, and set the rules.

Every save goes through productions.services, so the admin obeys the same human rules and
writes the same audit rows as the API. The master page shows pictures, not JSON: a
fragment cutter over the video (`fragment_cutter.html`, `master_page.js`), frames as
small JPEGs (`productions.thumbnails`), list and tag widgets (`productions.admin_widgets`).
"""

from productions.admin import audits, fragments, masters
from productions.admin.masters import CreativeProductionAdmin

__all__ = ["CreativeProductionAdmin", "audits", "fragments", "masters"]
