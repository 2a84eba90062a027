"""A request body larger than the app accepts is refused with 413 before a view or the CSRF check reads it."""


def test_a_request_body_over_the_limit_is_refused_before_anything_reads_it(client):
    huge = b"x" * (4 * 1024 * 1024 + 1)
    page = client.post("/login", data=huge, content_type="application/x-www-form-urlencoded")
    assert page.status_code == 413 and "Berkas terlalu besar" in page.get_data(as_text=True)
    api = client.post("/api/v1/events/1/visits", data=huge, content_type="application/json")
    assert api.status_code == 413 and api.get_json()["error"] == "payload_too_large"
