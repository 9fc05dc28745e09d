from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "punchclock.projects"
    label = "projects"
