"""Writes of the promotion app, one module per concern:

- meta_calls.py        - the observer that writes one PromotionLog row per call to Meta,
  the call context (variant, run, who), and the client factory every service uses
- upload.py            - rendered variant → video → poster → creative → ad (resumable)
- ad_control.py        - an ad's status and an ad set's budget on Meta, logged
- insights.py          - daily insights into VariantDailyMetric and actual_performance
- analyzer.py          - fragment performance from variant results (10.15)
- fatigue.py           - archive fatigued variants, ask for a suggestion, write a refresh
- promote.py           - the cycle's top-3 step: rank each master, carry out the moves
- ranking_inputs.py    - a master's live variants as the ranking's plain candidates
- budget.py            - the ROAS engine's budget step on an ad set, logged
- manual.py            - promote or archive one variant by hand (API, command)
- generation_inputs.py - what the measurements tell the planner, for `variants_generate`
"""
