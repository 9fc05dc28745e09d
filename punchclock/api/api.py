from ninja import NinjaAPI

api = NinjaAPI(title="Punchclock API", version="1", urls_namespace="api")
