"""The live Meta client over the Graph API, one concept per module.

- `transport`: HTTP attempts, auth and appsecret_proof, encoding, Graph's body and
  error envelope, retries, create-once and verified updates;
- `video_upload`: the chunked, resumable video upload;
- `insights`: the insight fields asked for and how a row is parsed;
- `client`: `GraphMetaClient`, the resources composed of those.
"""

from promotion.meta.enhancements import ADVANTAGE_CREATIVE_FEATURES
from promotion.meta.graph.client import GraphMetaClient
from promotion.meta.graph.insights import (
    DEFAULT_PURCHASE_ACTION_TYPES,
    INSIGHT_FIELDS,
    parse_insight_row,
)
from promotion.meta.graph.transport import appsecret_proof, encode_params
from promotion.meta.graph.video_upload import DEFAULT_CHUNK_THRESHOLD

__all__ = [
    "ADVANTAGE_CREATIVE_FEATURES",
    "DEFAULT_CHUNK_THRESHOLD",
    "DEFAULT_PURCHASE_ACTION_TYPES",
    "INSIGHT_FIELDS",
    "GraphMetaClient",
    "appsecret_proof",
    "encode_params",
    "parse_insight_row",
]
