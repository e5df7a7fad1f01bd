"""Stub mode's Meta Ads: a simulated account and market. No network, same contract.

It behaves like the Graph API where the engine can tell the difference:
- ids are Meta-shaped numeric strings, deterministic per seed and object name;
- uploads fail at a configured rate, with the typed errors real Meta gives (transient
  code 2, throttling 17, creative "oops" 100/1487390, permanent rejections, and the
  ambiguous kind where Meta did the work but the answer was lost), drawn per
  (seed, operation, name, attempt);
- objects can be found by name, so an ambiguous failure can be deduplicated;
- creatives opt out of every Advantage+ enhancement;
- an ad set's budget may change at most 4 times an hour (code 17 beyond);
- daily insights come from the market simulator (`promotion.meta.market`), only for
  days the client's clock has finished.

The modules: `client` (the `MetaAdsClient` calls), `account` (the objects, kept in the
database), `failures` (which calls fail and how), `ids` (Meta-shaped ids and seeded
draws), `account_market` (the account as the market simulator sees it).
"""

from promotion.meta.stub.account_market import load_stub_market
from promotion.meta.stub.client import StubMetaClient
from promotion.meta.stub.failures import UPLOAD_OPERATIONS

__all__ = ["UPLOAD_OPERATIONS", "StubMetaClient", "load_stub_market"]
