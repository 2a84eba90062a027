from .test_form_fuzz import FormFuzzer, fields_to_fuzz
import re
def test_dbg(app):
    f = FormFuzzer(app)
    forms = f.discover()
    for role, form in forms:
        if f.endpoint(form) == "sponsors.sponsor_create":
            f.fresh_world()
            c = f.client_for(role)
            data = f.baseline("sponsors.sponsor_create", form)
            r = c.post(form.action, data=data)
            print(r.status_code, re.findall(r'<p class="muted">[^<]*', r.get_data(as_text=True)), data)
