"""Writes of the promotion app, one module per concern:

- meta_calls.py - the observer that writes one PromotionLog row per call to Meta, the
  call context (variant, run, who), and the client factory every service uses
- upload.py     - rendered variant → video → poster → creative → ad (resumable)
- ad_control.py - an ad's status and an ad set's budget on Meta, logged
- insights.py   - daily insights into VariantDailyMetric and actual_performance
- analyzer.py   - fragment performance from variant results (10.15)
"""
