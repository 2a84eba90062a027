import re
from .test_form_fuzz import FormFuzzer, fields_to_fuzz, FIELD_ERROR, ALERT
def test_dbg(app):
    f = FormFuzzer(app)
    for role, form in f.discover():
        if form.method != "POST" or not fields_to_fuzz(form): continue
        f.fresh_world()
        c = f.client_for(role)
        ep = f.endpoint(form)
        from .test_form_fuzz import _current_target
        data = f.baseline(ep, form)
        r = c.post(_current_target(ep, form, f.world), data=data, headers={"HX-Request": "true"} if form.htmx else {})
        body = r.get_data(as_text=True)
        print("BASE", ep, role, r.status_code, FIELD_ERROR.findall(body), ALERT.findall(body), re.findall(r'class="[^"]*(?:toast|error)[^"]*"[^>]*>([^<]{0,100})', body)[:3] if r.status_code >= 400 else "")
