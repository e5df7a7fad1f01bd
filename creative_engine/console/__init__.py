"""The marketer's console: Django's admin, themed by django-unfold.

Each module registers the pages of one concept (the dashboard, creatives, evidence,
runs, leaderboards, the schedule, accounts); creative_engine/admin.py imports them so
Django's admin autodiscovery finds them. The console sits at the top of the stack: it
may read every app, and every action it offers calls the same service the API calls.
"""
