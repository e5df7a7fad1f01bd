"""Talking to Meta Ads (10.2): one protocol, two clients, one retry policy.

- `protocol`: the `MetaAdsClient` interface and the plain data it speaks;
- `errors`, `retry`: Meta's errors as types, and the one policy that says which are
  worth another try, when, and which are permanent;
- `create_once`: looking up by name so no create is ever done twice;
- `enhancements`: the Advantage+ opt-out every creative carries;
- `graph`: `GraphMetaClient`, the real Graph API over HTTPS;
- `stub`, `market`: `StubMetaClient` and the simulated market behind it;
- `configured`: `get_meta_client()`, the client for the configured mode.
"""
