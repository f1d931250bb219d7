#!/usr/bin/env python3
"""The pages in a real browser: scripts/browser-check starts the server and runs this.

Each step saves a screenshot; any failed check stops the run with a non-zero exit,
after saving failure.png and failure.html next to the screenshots.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import struct
import tempfile
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from selenium import webdriver

try:
    from axe_selenium_python import Axe
except ImportError:  # the accessibility check needs axe-selenium-python (scripts/browser-check installs it)
    Axe = None
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException, UnexpectedAlertPresentException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait


class CheckFailed(Exception):
    pass


# nina's fixed demo secret (Sources/App/Commands/Demo.swift).
NINA_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def totp(secret: str, at: float = None, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 with HMAC-SHA1, as authenticator apps compute it."""
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(base64.b32decode(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** digits).zfill(digits)


class Browser:
    def __init__(self, base_url: str, out: Path):
        self.base_url = base_url.rstrip("/")
        self.out = out
        self.step = 0
        options = webdriver.ChromeOptions()
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
            options.add_argument(argument)
        options.binary_location = "/usr/bin/chromium"
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        self.driver.set_page_load_timeout(30)
        self.axe = Axe(self.driver) if Axe else None
        self.violations = []

    def close(self):
        self.driver.quit()

    def open(self, path: str):
        self.driver.get(self.base_url + path)
        self.settle()

    def settle(self):
        WebDriverWait(self.driver, 15, ignored_exceptions=(WebDriverException,)).until(
            lambda d: d.execute_script("return document.readyState") == "complete")

    def retry(self, action):
        """Runs a DOM action again when the page was still being replaced under it."""
        for attempt in range(3):
            try:
                return action()
            except (StaleElementReferenceException, WebDriverException):
                if attempt == 2:
                    raise
                time.sleep(0.5)
                self.settle()

    def follow(self, css: str):
        """Follows a link the way a click would, waiting for the page."""
        href = self.retry(lambda: self.find(css).get_attribute("href"))
        self.driver.get(href)
        self.settle()

    def type(self, css: str, text: str):
        self.retry(lambda: self.find(css).send_keys(text))

    def choose(self, css: str, value: str = None, label: str = None):
        def pick():
            select = Select(self.find(css))
            select.select_by_value(value) if value is not None else select.select_by_visible_text(label)
        self.retry(pick)

    def find(self, css: str):
        return WebDriverWait(self.driver, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))

    def text(self, css: str) -> str:
        return self.retry(lambda: self.find(css).text.strip())

    def wait_for_path(self, prefix: str):
        try:
            WebDriverWait(self.driver, 10).until(lambda d: d.current_url.startswith(self.base_url + prefix))
        except Exception:
            raise CheckFailed(f"expected to be at {prefix}, but the browser is at {self.driver.current_url}")

    def submit(self, form_css: str):
        """Clicks the form's submit button and waits for the next page."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        self.retry(lambda: self.driver.find_element(By.CSS_SELECTOR, f"{form_css} button[type=submit]").click())
        self.wait_replaced(old)

    def wait_replaced(self, old):
        """Waits until the page holding `old` is gone. Chromium sometimes reports a node of the old page as
        "does not belong to the document" rather than stale: both mean the next page has arrived."""
        def replaced(_):
            try:
                old.is_enabled()
                return False
            except WebDriverException:
                return True
        WebDriverWait(self.driver, 15).until(replaced)
        self.settle()

    def shot(self, name: str):
        """A full-page screenshot, numbered in step order."""
        self.step += 1
        height = self.driver.execute_script("return Math.max(document.documentElement.scrollHeight, 900)")
        self.driver.set_window_size(1280, min(height + 120, 4000))
        self.driver.execute_script("window.scrollTo(0, 0)")
        path = self.out / f"{self.step:02d}-{name}.png"
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(1280, 900)
        print(f"  screenshot {path.name}")
        self.accessibility(name)

    def accessibility(self, name: str):
        """axe-core on the page just photographed; serious and critical violations are kept for the end."""
        if self.axe is None:
            return
        self.axe.inject()
        results = self.axe.run()
        for violation in results["violations"]:
            # The axe-core bundled with axe-selenium-python predates the `one-time-code` autofill token
            # (WHATWG HTML), which the sign-in's code fields use rightly.
            nodes = [n for n in violation["nodes"] if not (violation["id"] == "autocomplete-valid" and 'autocomplete="one-time-code"' in n["html"])]
            if nodes and violation.get("impact") in ("serious", "critical"):
                targets = [" ".join(node["target"]) for node in nodes][:3]
                self.violations.append(f"{name} ({self.driver.current_url}): {violation['id']} [{violation['impact']}] {violation['help']}: {targets}")

    def expect(self, condition: bool, message: str):
        if not condition:
            raise CheckFailed(message)

    def tick(self, form_css: str, label: str):
        """Ticks the checkbox or radio button whose label reads `label`."""
        def click():
            for element in self.driver.find_elements(By.CSS_SELECTOR, f"{form_css} label"):
                if element.text.strip() == label:
                    box = self.driver.find_element(By.ID, element.get_attribute("for"))
                    if not box.is_selected():
                        box.click()
                    return
            raise CheckFailed(f"no checkbox labelled {label!r} in {form_css}")
        self.retry(click)

    def hrefs(self, css: str):
        return [element.get_attribute("href") for element in self.driver.find_elements(By.CSS_SELECTOR, css)]

    def login(self, username: str, password: str):
        self.open("/login")
        self.type("#username", username)
        self.type("#password", password)
        self.submit("form[action='/login']")
        self.wait_for_path("/tickets")

    def logout(self):
        self.submit("form[action='/logout']")
        self.wait_for_path("/login")


def run(b: Browser):
    stamp = time.strftime("%H%M%S")
    title = f"Printer on 3rd floor offline ({stamp})"
    note = f"Called Alice; the printer needs a new fuser unit. Ordered one ({stamp})."

    print("tara: log in")
    b.open("/tickets")
    b.wait_for_path("/login")
    b.expect(b.text("h1") == "Log in to Tandem", "an anonymous visit to /tickets should show the login page")
    b.shot("login")
    b.type("#username", "tara")
    b.type("#password", "wrong password")
    b.submit("form[action='/login']")
    b.expect("wrong" in b.text(".alert").lower(), "a wrong password should say so on the login page")
    b.expect(b.find("#username").get_attribute("value") == "tara", "the login form should keep the username")
    b.shot("login-wrong-password")
    b.login("tara", "demo-tech-2026")

    print("tara: ticket list")
    total = b.text("#ticket-total")
    b.expect(total.endswith("tickets") and int(total.split()[0]) > 0, f"the list should show a total, got {total!r}")
    b.expect(len(b.driver.find_elements(By.CSS_SELECTOR, "table.tickets tbody tr")) > 0, "the list should show tickets")
    b.shot("ticket-list")
    b.choose("#status", value="open")
    b.choose("#organizationId", label="Fabrikam Legal")
    b.submit("form.filters")
    b.expect("match these filters" in b.text("#ticket-total"), "a filtered list should say the total matches the filters")
    organizations = {cell.text for cell in b.driver.find_elements(By.CSS_SELECTOR, "table.tickets tbody td:nth-child(3)")}
    b.expect(organizations == {"Fabrikam Legal"}, f"the organization filter should hold, got {organizations}")
    hidden_ticket = b.find("table.tickets tbody a").get_attribute("href")
    b.shot("ticket-list-filtered")
    b.open("/tickets")
    b.follow("a[rel=next]")
    b.wait_for_path("/tickets?cursor=")
    b.expect(len(b.driver.find_elements(By.LINK_TEXT, "First page")) == 1, "the second page should link back to the first")

    print("tara: new ticket")
    b.open("/tickets")
    b.follow("a.button.primary[href='/tickets/new']")
    b.wait_for_path("/tickets/new")
    b.choose("#organizationId", label="Northwind Traders")
    b.submit("form[action='/tickets/new']")
    b.expect(b.text("#chosen-organization") == "Northwind Traders", "step two should name the chosen organization")
    b.type("#description", "Paper jams on every job; the display shows error 50.1.")
    b.submit("form[action='/tickets/new']")
    b.expect("Title must not be empty" in b.text(".alert"), "an empty title should be explained on the form")
    b.expect("error 50.1" in b.find("#description").get_attribute("value"), "the form should keep the description")
    b.shot("new-ticket-missing-title")
    b.type("#title", title)
    b.choose("#priority", value="high")
    b.choose("#siteId", label="Seattle HQ")
    b.choose("#contactId", label="Anders, Alice (alice@northwind.example)")
    b.shot("new-ticket-form")
    b.submit("form[action='/tickets/new']")
    b.wait_for_path("/tickets/")
    b.expect(title in b.text("h1"), "the new ticket's page should show its title")
    b.expect(b.text(".notice") == "The ticket was created.", "creating should confirm")
    ticket_url = b.driver.current_url.split("?")[0]
    b.shot("ticket-created")

    print("tara: add a note")
    b.type("#note-body", note)
    b.retry(lambda: b.find("#compose-internalAndCoManaged").click())
    b.submit("form[action$='/notes']")
    b.expect(b.text(".notice") == "Your note was added.", "adding a note should confirm")
    items = [item for item in b.driver.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=conversation-heading] li.item") if note in item.text]
    b.expect(len(items) == 1, "the note should appear once on the ticket")
    badge = items[0].find_element(By.CSS_SELECTOR, ".badge").text
    b.expect(badge == "Internal & co-managed", f"the note should show its publish-to, got {badge!r}")
    b.shot("note-added")

    print("tara: log time and attach a file, each with its publish-to")
    b.retry(lambda: b.find("#log-time summary").click())
    b.type("#time-minutes", "25")
    b.type("#time-summary", "Replaced the fuser unit")
    b.choose("#time-publish", value="all")
    b.submit("form[action$='/time-entries']")
    b.expect(b.text(".notice") == "Your time entry was added.", "logging time should confirm")
    entries = [item for item in b.driver.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=conversation-heading] li.item") if "Replaced the fuser unit" in item.text]
    b.expect(len(entries) == 1, "the time entry should appear once")
    b.expect(entries[0].find_element(By.CSS_SELECTOR, ".badge").text == "All", "the time entry should show its publish-to")
    upload = os.path.join(tempfile.mkdtemp(), "printer-log.txt")
    with open(upload, "w") as handle:
        handle.write("Error 50.1 at 09:14\n")
    b.retry(lambda: b.find("#attach summary").click())
    b.driver.find_element(By.CSS_SELECTOR, "#attach-file").send_keys(upload)
    b.choose("#attach-publish", value="internal")
    b.submit("form[action$='/attachments']")
    b.expect(b.text(".notice") == "The file was attached.", "attaching should confirm")
    files = [item for item in b.driver.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=conversation-heading] li.item") if "printer-log.txt" in item.text]
    b.expect(len(files) == 1, "the attachment should appear once")
    b.expect(files[0].find_element(By.CSS_SELECTOR, ".badge").text == "Internal", "the attachment should show its publish-to")
    b.shot("time-and-attachment-added")

    print("tara: change the status")
    b.retry(lambda: b.find("#edit-ticket summary").click())
    b.choose("#edit-status", value="inProgress")
    b.submit("#edit-form")
    b.expect(b.text("#ticket-status") == "In progress", "the status should change")
    b.shot("status-changed")

    print("tara: a forged form is refused")
    b.driver.execute_script("document.querySelector(\"form[action$='/notes'] input[name=_csrf]\").value = 'forged'")
    b.type("#note-body", "This must not be saved.")
    b.submit("form[action$='/notes']")
    b.expect(b.text("h1") == "Not allowed", "a form without the right CSRF token should be refused")
    b.shot("forged-form-refused")
    b.open(ticket_url.replace(b.base_url, ""))
    b.expect("This must not be saved." not in b.driver.page_source, "the refused note must not be saved")

    print("tara: organization and site pages")
    b.follow("dd a[href^='/organizations/']")
    b.wait_for_path("/organizations/")
    b.expect(b.text("h1") == "Northwind Traders", "the organization page should show its name")
    b.expect(title in b.driver.page_source, "the organization page should list the new open ticket")
    b.shot("organization")
    organization_url = b.driver.current_url.split("?")[0]
    print("tara: block hours and her timesheet")
    b.follow("#block-hours-link")
    b.expect(b.text("h1") == "Block hours", "the organization's block hours should open from its page")
    b.shot("block-hours")
    b.open("/timesheets")
    b.expect(b.text("h1").startswith("Timesheet "), "the timesheet page should name the week")
    b.expect("Replaced the fuser unit" in b.driver.page_source, "tara's timesheet should list the time she logged this week")
    b.shot("timesheet")
    timesheet_expense(b, stamp)
    b.driver.get(organization_url)
    b.settle()
    b.follow("a[href^='/sites/']")
    b.wait_for_path("/sites/")
    b.shot("site")
    client_profiles(b, stamp)
    b.logout()
    b.expect("logged out" in b.text(".notice"), "logging out should confirm")

    print("rick (client-restricted): hidden tickets are not found")
    b.login("rick", "demo-tech-2026")
    options = [o.text for o in Select(b.find("#organizationId")).options]
    b.expect("Fabrikam Legal" not in options, f"rick should not be offered Fabrikam Legal, got {options}")
    b.driver.get(hidden_ticket)
    b.expect(b.text("h1") == "Not found", "a ticket outside rick's client restrictions should answer the not-found page")
    b.expect("Fabrikam" not in b.driver.page_source, "the not-found page should reveal nothing about the ticket")
    b.shot("rick-hidden-ticket")
    b.driver.get(ticket_url)
    b.expect(title in b.text("h1"), "rick should see the Northwind ticket tara created")
    b.logout()

    co_management(b, hidden_ticket, stamp)
    automation(b, stamp)
    configuration(b, stamp)
    departments(b, stamp)
    admin_people(b, stamp)
    ticket_work(b, stamp)
    portal(b, stamp)
    view_as(b, stamp)
    site_security(b, stamp)
    audit_export(b)
    security_request(b, stamp)
    organization_groups(b, stamp)
    keyboard_only(b, stamp)
    site_network(b, stamp)
    sla(b, stamp)
    credential_vault(b, stamp)
    references(b, stamp)
    references_xss(b, stamp)
    organization_report(b)


def client_profiles(b: Browser, stamp: str):
    """SPEC §7 on the pages: a site's client profiles, one added with a field error first, an import with progress and a report."""
    print("tara: client profiles of the site, add one, import a file")
    b.follow("#client-profiles")
    b.wait_for_path("/sites/")
    b.expect(b.text("h1").startswith("Client profiles"), "the site page should link to its client profiles")
    b.shot("client-profiles")
    b.follow("a[href$='/profiles/new']")
    b.type("#firstName", "Pat")
    b.type("#lastName", f"Pages{stamp}")
    b.type("#officePhone", "555-0100")
    b.submit("form[action$='/profiles/new']")
    b.expect("contains '-'" in b.text("#officePhone-error"), "a phone number with a dash should be refused on its field")
    b.shot("client-profile-field-error")
    b.retry(lambda: b.find("#officePhone").clear())
    b.type("#officePhone", "5550100")
    b.submit("form[action$='/profiles/new']")
    b.expect("The profile was added." in b.text(".notice"), "saving the profile should confirm")
    b.expect(f"Pages{stamp}" in b.text("#profiles"), "the new profile should be listed")
    export = b.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(document.querySelector('#export-csv').href).then(r => r.text()).then(done, e => done('error ' + e));")
    b.expect(export.lstrip("\ufeff").startswith("Id,First Name,Last Name") and f"Pages{stamp}" in export, "the CSV export should hold the new profile")
    path = Path(tempfile.mkdtemp()) / "profiles.csv"
    path.write_text("First Name,Last Name,Email,Office Phone,Office Phone Country,SMS Gateway\n"
                    f"Imogen,Import{stamp},imogen{stamp}@northwind.example,5550101,US,'@txt.att.com\n"
                    f"Bad,Phone{stamp},,555 0102,US,\n")
    b.type("input[name=file]", str(path))
    b.submit("form[action$='/profiles/import']")
    b.find("#import-report")
    b.expect(b.text("#count-added") == "1" and b.text("#count-failed") == "1", "the import report should count one added and one failed row")
    b.expect("contains ' '" in b.text("#import-failures"), "the report should give the failed row's reason")
    b.expect("D3" in b.text("#import-failures"), "the report should name the failing cell")
    b.shot("client-profile-import-report")
    b.follow("#import-report a.button")
    b.expect(f"Import{stamp}" in b.text("#profiles"), "the imported profile should be listed")


def co_management(b: Browser, fabrikam_ticket: str, stamp: str):
    """SPEC §2–§3 and §13 on the pages: the admin's co-management pages, then nina, a co-managing user."""
    shared_note = "For Northwind IT: the image is ready; please book the desks for Monday."
    contact_note = "Hello Alice, your new laptops arrive on Monday."
    internal_note = "Internal: the hardware margin on this order is thin; do not offer a discount."

    print("admin: tickets for the co-management story")
    b.login("admin", "demo-admin-2026")
    b.open("/tickets?q=Laptop+rollout+for+new+starters")
    shared = b.hrefs("table.tickets tbody a")
    b.expect(len(shared) == 1, f"the demo should have one shared Northwind ticket, got {len(shared)}")
    shared_ticket = shared[0]
    b.open("/tickets?q=Renew+firewall+support+contract")
    hidden = b.hrefs("table.tickets tbody a")
    b.expect(len(hidden) == 1, f"the demo should have one Northwind ticket hidden from co-managing users, got {len(hidden)}")
    hidden_northwind = hidden[0]

    print("admin: the co-management page and its deactivation impact report")
    b.open("/admin/co-management")
    b.expect(b.text("h1") == "Co-management", "the admin should reach the co-management page")
    b.expect(b.text("#co-management-state") == "On", "the demo switches co-management on")
    report = b.text("#impact-report")
    for expected in ("Organizations to disable (2)", "Northwind Traders", "Contoso Pharmaceuticals", "Tickets to unassign (3)",
                     "Associations to delete (3)", "Northwind IT", "Workflow rules to mark broken (1)",
                     "Tell Nina about new Northwind tickets", "Each ticket's co-managed visibility"):
        b.expect(expected in report, f"the impact report should list {expected!r}")
    blocking = b.text("#impact-blocked")
    b.expect("nina" in blocking and "omar" in blocking, f"the report should name the active co-managing users, got {blocking!r}")
    b.shot("admin-co-management-impact")
    b.tick("form[action='/admin/co-management/deactivate']", "I have read the report: switch co-management off for the system and every organization, in one step")
    b.submit("form[action='/admin/co-management/deactivate']")
    refusal = b.text(".alert")
    b.expect("not switched off" in refusal and "nina" in refusal, f"switching off with active users should be refused clearly, got {refusal!r}")
    b.expect(b.text("#co-management-state") == "On", "a refused deactivation changes nothing")
    b.shot("admin-deactivation-refused")

    print("admin: co-managed setup")
    b.open("/admin/co-management/organizations")
    rows = {row.find_element(By.CSS_SELECTOR, "td").text: row.text for row in b.driver.find_elements(By.CSS_SELECTOR, "table.setup tbody tr")}
    b.expect("Nina Novak (nina)" in rows.get("Northwind Traders", ""), f"Northwind should show nina, got {rows.get('Northwind Traders')!r}")
    b.expect("Contoso IT" in rows.get("Contoso Pharmaceuticals", ""), "Contoso should show its co-managing team")
    b.shot("admin-co-managed-setup")

    print("admin: the co-managing user wizard with its license step")
    b.open("/admin/co-managing-users")
    b.expect("2 co-managed licenses" in b.text("#license-count"), "the demo has two co-managed licenses")
    b.follow("a.button.primary[href='/admin/co-managing-users/new']")
    b.choose("#organizationId", label="Northwind Traders")
    b.submit("#wizard-organization")
    b.tick("#wizard-contact", "A new contact, created with the user")
    b.type("#firstName", "Paula")
    b.type("#lastName", "Park")
    b.type("#email", f"paula.{stamp}@northwind.example")
    b.submit("#wizard-contact")
    b.type("#username", f"paula{stamp}")
    b.type("#password", "demo-paula-2026")
    b.submit("#wizard-details")
    b.expect("at least one queue" in b.text(".alert"), "the wizard should ask for a queue")
    b.type("#password", "demo-paula-2026")
    b.tick("#wizard-details", "Service Desk")
    b.tick("#wizard-details", "Engineer")
    b.submit("#wizard-details")
    b.expect(b.find("#wizard-departments") is not None, "the wizard should ask for departments after the details")
    b.shot("admin-wizard-departments")
    b.submit("#wizard-departments")
    b.expect(b.text("#licenses-now") == "2" and b.text("#licenses-after") == "3", "the license step should show the count before and after")
    b.shot("admin-wizard-license")
    b.submit("#wizard-confirm")
    b.expect("Tick the box" in b.text(".alert"), "creating without confirming the license should be refused")
    b.tick("#wizard-confirm", "I confirm the additional billable license")
    b.submit("#wizard-confirm")
    b.wait_for_path("/admin/co-managing-users/")
    b.expect(b.text("h1") == "Paula Park", "the new co-managing user's page should open")
    b.expect("was created" in b.text(".notice"), "creating should confirm")
    b.follow("nav.tabs.sub a[href$='tab=security']")
    b.expect("Not set up yet" in b.text("#two-factor-state"), "a new user sets up two-factor authentication at the first login")
    b.submit("form[action$='/totp-pause']")
    b.expect(b.text("#two-factor-state") == "Paused for the next login", "the admin can pause two-factor for the next login")
    b.shot("admin-co-managing-user-security")

    print("admin: security levels")
    b.open("/admin/security-levels")
    b.choose("#copyOf", label="Co-managed Basic (co-managed)")
    b.type("#level-name", f"Northwind read-mostly {stamp}")
    b.submit("#copy-level")
    b.wait_for_path("/admin/security-levels/")
    b.expect("Co-managed" in b.text(".page-head") and "Custom" in b.text(".page-head"), "the copy should be a custom co-managed level")
    b.expect("A co-managed level can never hold one" in b.driver.page_source, "a co-managed level shows it holds no admin permission")
    b.shot("admin-security-level-copy")

    print("admin: explain access and the audience preview on a shared ticket")
    b.driver.get(shared_ticket)
    b.settle()
    preview = {row.get_attribute("data-publish"): row.text for row in b.driver.find_elements(By.CSS_SELECTOR, "#composer .choice-audience")}
    b.expect(set(preview) == {"internal", "internalAndCoManaged", "all"}, f"the preview should cover each publish-to, got {set(preview)}")
    b.expect("Nina Novak" not in preview["internal"] and "Nina Novak" in preview["internalAndCoManaged"],
             "the preview should show nina for internal & co-managed only")
    b.expect("Alice Anders" in preview["all"] and "Alice Anders" not in preview["internalAndCoManaged"], "the preview should show the contact for all only")
    b.choose("#explain-subject", label="Nina Novak (nina), Northwind Traders")
    b.submit("#explain-access form")
    result = b.text("#explain-result")
    b.expect("Can see it" in result and "associated with the ticket's organization" in result, f"explain should allow nina with reasons, got {result!r}")
    b.shot("admin-explain-access")
    b.driver.get(hidden_northwind)
    b.settle()
    b.choose("#explain-subject", label="Nina Novak (nina), Northwind Traders")
    b.submit("#explain-access form")
    result = b.text("#explain-result")
    b.expect("Cannot see it" in result and "co-managed visibility off" in result, f"explain should deny nina the hidden ticket, got {result!r}")
    b.logout()

    print("nina (co-managing user): log in with a two-factor code")
    b.open("/login")
    b.type("#username", "nina")
    b.type("#password", "demo-comanaged-2026")
    b.submit("form[action='/login']")
    b.expect("code" in b.text(".alert"), "the login should ask nina for her two-factor code")
    b.expect(b.find("#username").get_attribute("value") == "nina", "the login form should keep the username")
    b.shot("nina-two-factor-asked")
    b.type("#password", "demo-comanaged-2026")
    b.type("#totp", "000000" if totp(NINA_TOTP_SECRET) != "000000" else "111111")
    b.submit("form[action='/login']")
    b.expect("wrong" in b.text(".alert"), "a wrong code should be refused")
    b.type("#password", "demo-comanaged-2026")
    b.type("#totp", totp(NINA_TOTP_SECRET))
    b.submit("form[action='/login']")
    b.wait_for_path("/tickets")
    nav = b.text("nav[aria-label=Main]")
    b.expect("Admin" not in nav, f"nina's navigation should offer no admin pages, got {nav!r}")
    organizations = {cell.text for cell in b.driver.find_elements(By.CSS_SELECTOR, "table.tickets tbody td:nth-child(3)")}
    b.expect(organizations == {"Northwind Traders"}, f"nina should see Northwind tickets only, got {organizations}")
    b.shot("nina-ticket-list")

    print("nina: a shared ticket shows its shared notes, not the internal one")
    b.driver.get(shared_ticket)
    b.settle()
    notes = b.text("section[aria-labelledby=conversation-heading]")
    b.expect(shared_note in notes, "nina should see the note published to internal & co-managed")
    b.expect(contact_note in notes, "nina should see the note published to all")
    b.expect(internal_note not in b.driver.page_source, "nina must not see the internal note")
    choices = [o.get_attribute("value") for o in b.driver.find_elements(By.CSS_SELECTOR, "#composer input[name=publishTo][type=radio]")]
    b.expect(choices == ["internalAndCoManaged", "all"], f"nina's note form should offer only the shared publish-to values, got {choices}")
    b.expect(len(b.driver.find_elements(By.CSS_SELECTOR, "#explain-access")) == 0, "explain access is for admins only")
    b.shot("nina-shared-ticket")
    reply = f"Desks booked for Monday ({stamp})."
    b.type("#note-body", reply)
    b.submit("form[action$='/notes']")
    items = [item for item in b.driver.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=conversation-heading] li.item") if reply in item.text]
    b.expect(len(items) == 1 and items[0].find_element(By.CSS_SELECTOR, ".badge").text == "Internal & co-managed",
             "nina's note should default to internal & co-managed")

    print("nina: other organizations' tickets and hidden tickets are not found")
    b.driver.get(fabrikam_ticket)
    b.settle()
    b.expect(b.text("h1") == "Not found", "a Fabrikam ticket should answer the not-found page for nina")
    b.expect("Fabrikam" not in b.driver.page_source, "the not-found page should reveal nothing about the ticket")
    b.shot("nina-other-organization")
    b.driver.get(hidden_northwind)
    b.settle()
    b.expect(b.text("h1") == "Not found", "a Northwind ticket hidden from co-managing users should answer the not-found page")
    b.expect("firewall" not in b.driver.page_source.lower(), "the not-found page should reveal nothing about the hidden ticket")
    b.shot("nina-hidden-ticket")
    b.open("/admin/co-management")
    b.expect(b.text("h1") == "Not allowed", "nina should not reach the admin pages")
    b.logout()

    print("omar (co-managing user, not enrolled yet): two-factor setup at the first login")
    b.open("/login")
    b.type("#username", "omar")
    b.type("#password", "demo-comanaged-2026")
    b.submit("form[action='/login']")
    b.wait_for_path("/login/two-factor")
    secret = b.find("#totp-secret").get_attribute("data-secret")
    b.expect(secret in b.driver.page_source and "otpauth://totp/" in b.driver.page_source, "the setup page should show the secret and the otpauth URI")
    b.shot("omar-two-factor-setup")
    b.type("#code", "000000" if totp(secret) != "000000" else "111111")
    b.submit("form[action='/login/two-factor']")
    b.expect("does not match" in b.text(".alert"), "a wrong setup code should be refused")
    b.type("#code", totp(secret))
    b.submit("form[action='/login/two-factor']")
    b.wait_for_path("/login")
    b.expect("set up" in b.text(".notice"), "finishing the setup should say so and return to the login")
    b.expect(b.find("#username").get_attribute("value") == "omar", "the login after the setup should keep the username")
    b.type("#password", "demo-comanaged-2026")
    # The setup used the current code; the next one (accepted one step early) logs in without waiting.
    b.type("#totp", totp(secret, time.time() + 30))
    b.submit("form[action='/login']")
    b.wait_for_path("/tickets")
    organizations = [cell.text for cell in b.driver.find_elements(By.CSS_SELECTOR, "table.tickets tbody td:nth-child(3)")]
    b.expect(organizations and set(organizations) == {"Contoso Pharmaceuticals"}, f"omar should see only Contoso tickets assigned to him, got {organizations}")
    b.expect(b.text("#ticket-total") == "3 tickets", f"omar's level shows only the tickets assigned to him, got {b.text('#ticket-total')!r}")
    b.shot("omar-ticket-list")
    b.logout()


def api(b: Browser, method: str, path: str, body: dict, token: str = None) -> dict:
    """A JSON call to the API with a bearer token (no cookie, so no CSRF token needed)."""
    request = urllib.request.Request(b.base_url + path, data=json.dumps(body).encode(), method=method,
                                     headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.loads(response.read() or b"{}")


def site_security(b: Browser, stamp: str):
    """SPEC §8 on the pages: the administrator sets two approvers for password reset (a contact, then an MSP resource)
    with "Authenticate approver" on a demo site, and adds a row to its unlicensed software list."""
    print("admin: a site's security-request settings and unlicensed software")
    software = f"Zoom {stamp}"
    b.login("admin", "demo-admin-2026")
    b.open("/organizations")
    site = b.retry(lambda: b.driver.find_element(By.LINK_TEXT, "Seattle HQ").get_attribute("href"))
    b.driver.get(site)
    b.settle()
    b.follow("#security-requests")
    b.wait_for_path("/sites/")
    b.expect(b.text("h1") == "Security requests", "the site page should link to its security-request settings")
    b.expect("The MSP approves" in b.text("#policy-sentence"), "the policy summary should be at the top")
    b.retry(lambda: b.find("#passwordReset-mode-approval").click())
    b.choose("#passwordReset-approver1", label="Alice Anders (contact)")
    b.choose("#passwordReset-approver2", label="Tara Tech (MSP resource)")
    box = b.find("#passwordReset-authenticateApprover")
    if not box.is_selected():
        b.retry(lambda: box.click())
    b.type("#newUserAccount-usernameFormat", "{first}.{last}")
    b.choose("#previewContactId", label="Alice Anders")
    b.shot("site-security-requests-form")
    b.submit("#security-form")
    b.expect("were saved" in b.text(".notice"), "saving the settings should say so")
    b.expect("Password reset" in b.text("#policy-sentence").split("The MSP approves")[0].split("decide:")[-1], f"the summary should name password reset, got {b.text('#policy-sentence')!r}")
    b.expect(Select(b.find("#passwordReset-approver1")).first_selected_option.text == "Alice Anders (contact)", "the first approver should be kept")
    b.expect(Select(b.find("#passwordReset-approver2")).first_selected_option.text == "Tara Tech (MSP resource)", "the second approver should be kept")
    b.expect(b.find("#passwordReset-authenticateApprover").is_selected(), "Authenticate approver should stay ticked")
    b.expect("alice.anders" in b.text("#newUserAccount-preview"), "the username template should be previewed for Alice")
    b.shot("site-security-requests-saved")

    b.follow("nav.tabs a[href$='/software-approvals']")
    b.wait_for_path("/sites/")
    b.expect(b.text("h1") == "Unlicensed software", "the tab should lead to the unlicensed software list")
    b.type("#name-new", software)
    b.choose("#approval-new", value="callApprover")
    b.submit("#software-form")
    b.expect("was saved" in b.text(".notice"), "saving the list should say so")
    names = [field.get_attribute("value") for field in b.driver.find_elements(By.CSS_SELECTOR, "#software-list tbody input[name^='name-']")]
    b.expect(software in names, f"the new row should be listed, got {names}")
    b.shot("site-unlicensed-software")
    b.follow("a.remove-software")
    b.expect(b.text("h1").startswith("Remove"), "removing should ask first")
    b.find("#remove-consequence")
    b.shot("site-unlicensed-software-remove")
    b.logout()


def audit_export(b: Browser):
    """The per-organization audit export: every event of the walk's busiest organization, and none of another."""
    print("admin: the audit export of one organization holds no event of another")
    token = api(b, "POST", "/api/v1/auth/token", {"username": "admin", "password": "demo-admin-2026"})["token"]
    organizations = api_get(b, "/api/v1/organizations?limit=100", token)["items"]
    northwind = next(o for o in organizations if o["name"].startswith("Northwind"))
    request = urllib.request.Request(b.base_url + f"/api/v1/organizations/{northwind['id']}/audit-export?format=jsonl",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        records = [json.loads(line) for line in response.read().decode().splitlines() if line.strip()]
    b.expect(len(records) > 5, f"the walk should have left events on {northwind['name']}, found {len(records)}")
    strays = [r for r in records if (r.get("organizationId") or "").lower() != northwind["id"].lower()]
    b.expect(not strays, f"the export of {northwind['name']} holds {len(strays)} events of another organization: {strays[:2]}")
    b.login("admin", "demo-admin-2026")
    b.open(f"/organizations/{northwind['id']}")
    b.find("#audit-export")
    b.shot("organization-audit-export")
    b.logout()


def automation(b: Browser, stamp: str):
    """The automation pages: the outbox from the admin tabs, and a ticket action made through the API as a button."""
    print("admin: outbox page and a ticket action button")
    token = api(b, "POST", "/api/v1/auth/token", {"username": "admin", "password": "demo-admin-2026"})["token"]
    name = f"Raise to critical ({stamp})"
    api(b, "POST", "/api/v1/ticket-actions", {"name": name, "changes": {"priority": "critical"}}, token)
    b.login("admin", "demo-admin-2026")
    b.open("/admin/security-levels")
    b.follow("nav.tabs a[href='/admin/outbox']")
    b.wait_for_path("/admin/outbox")
    b.expect(b.text("h1") == "Outbox", "the admin tabs should lead to the outbox page")
    b.shot("admin-outbox")
    b.open("/tickets")
    b.follow("table.tickets tbody a")
    b.wait_for_path("/tickets/")
    forms = [f for f in b.driver.find_elements(By.CSS_SELECTOR, "#ticket-actions form") if f.text.strip() == name]
    b.expect(len(forms) == 1, f"the ticket page should offer the action {name!r} as a button")
    b.shot("ticket-actions")
    action = forms[0].get_dom_attribute("action")
    b.submit(f"#ticket-actions form[action='{action}']")
    b.expect("action was run" in b.text(".notice"), "running the action should say so")
    b.expect(b.text(".priority") == "Critical", f"the action should raise the priority, got {b.text('.priority')!r}")
    b.logout()


def configuration(b: Browser, stamp: str):
    """The configuration pages: a queue, and a team with a member, made in the browser."""
    print("admin: a queue and a team with a member through the configuration pages")
    b.login("admin", "demo-admin-2026")
    b.open("/admin/queues")
    b.follow("a.button.primary[href='/admin/queues/new']")
    b.wait_for_path("/admin/queues/new")
    b.type("#name", f"Escalations {stamp}")
    b.submit("#item-form")
    b.wait_for_path("/admin/queues/")
    b.expect("created" in b.text(".notice"), "creating a queue should say so")
    b.open("/admin/teams/new")
    b.type("#name", f"Night shift {stamp}")
    b.submit("#item-form")
    b.wait_for_path("/admin/teams/")
    options = Select(b.find("#principalId")).options
    tara = [o.get_attribute("value") for o in options if "Tara Tech" in o.text]
    b.expect(len(tara) == 1, "the team's member list should offer Tara Tech")
    b.choose("#principalId", value=tara[0])
    b.choose("#access", value="full")
    b.submit("#add-member")
    b.expect("Tara Tech" in b.text("#members table"), "the new member should be listed")
    b.shot("admin-team-members")

    print("admin: a custom security level copied from Technician, its permissions edited")
    b.open("/admin/security-levels")
    b.choose("#copyOf", label="Technician")
    b.type("#level-name", f"Dispatch {stamp}")
    b.submit("#copy-level")
    b.wait_for_path("/admin/security-levels/")
    b.follow("#edit-level")
    b.choose("#ticketScope", value="myQueues")
    b.choose("#area-contacts", value="view")
    b.tick("#item-form", "Manage rules")
    b.shot("admin-security-level-edit")
    b.submit("#item-form")
    b.expect("permissions were saved" in b.text(".notice"), "saving a level's permissions should say so")
    b.expect("Tickets in my queues" in b.text("#areas-heading + dl"), "the level should show its new ticket scope")
    b.expect("Manage rules" in b.text("#admin-heading + ul"), "the level should hold the permission ticked")
    block_hours_edit(b)
    b.logout()


def timesheet_expense(b: Browser, stamp: str):
    """tara adds an expense to her week on the timesheet page; it shows with the week's total."""
    print("tara: an expense added on her timesheet")
    b.choose("#expense-category", value="meals")
    b.type("#expense-description", f"Client lunch {stamp}")
    b.type("#expense-amount", "12.50")
    b.choose("#expense-organization", label="Northwind Traders")
    b.submit("#expense-form")
    b.wait_for_path("/timesheets")
    b.expect("expense was added" in b.text(".notice"), "adding an expense should say so")
    b.expect(f"Client lunch {stamp}" in b.text("#timesheet-expenses + table"), "the new expense should be listed on the timesheet")
    b.expect(b.text("#timesheet-expense-total") == "12.50", "the week's expense total should be the new expense's amount")
    b.shot("timesheet-expense")


def block_hours_edit(b: Browser):
    """The administrator edits Northwind's block-hour contract on the block-hours page (hours bought and threshold)."""
    print("admin: a block-hour contract edited on the organization's block-hours page")
    b.open("/organizations")
    northwind = b.retry(lambda: b.driver.find_element(By.LINK_TEXT, "Northwind Traders").get_attribute("href"))
    b.driver.get(northwind.split("?")[0] + "/block-hours")
    b.settle()
    b.follow("a.edit-contract")
    b.expect(b.text("#edit-contract h2").startswith("Edit "), "the contract's edit form should open")
    b.retry(lambda: b.find("#hoursBought").clear())
    b.type("#hoursBought", "44.5")
    b.retry(lambda: b.find("#thresholdPercent").clear())
    b.type("#thresholdPercent", "90")
    b.shot("block-hours-edit")
    b.submit("#edit-contract")
    b.expect("contract was saved" in b.text(".notice"), "saving a contract should say so")
    b.expect("44.5 h" in b.text("table") and "90%" in b.text("table"), "the contract should show its new hours and threshold")


def departments(b: Browser, stamp: str):
    """Departments: an MSP department and a co-managed one of Northwind, each with a member, made in the browser."""
    print("admin: an MSP department and a co-managed department, each with a member")
    b.login("admin", "demo-admin-2026")

    def add_member(label_part: str):
        options = [o.get_attribute("value") for o in Select(b.find("#principalId")).options if label_part in o.text]
        b.expect(len(options) == 1, f"the department should offer {label_part}")
        b.choose("#principalId", value=options[0])
        b.submit("#add-member")
        b.expect("member was added" in b.text(".notice"), "adding a member should say so")
        b.expect(label_part in b.text("#members table"), f"{label_part} should be listed as a member")

    b.open("/admin/departments")
    b.follow("a.button.primary[href='/admin/departments/new']")
    b.wait_for_path("/admin/departments/new")
    b.type("#name", f"Field services {stamp}")
    b.tick("#item-form", "MSP department: MSP resources and co-managing users")
    b.submit("#item-form")
    b.wait_for_path("/admin/departments/")
    b.expect("created" in b.text(".notice"), "creating a department should say so")
    add_member("Tara Tech (MSP resource)")
    b.shot("admin-department-msp")

    b.open("/admin/departments/new")
    b.type("#name", f"Northwind IT {stamp}")
    b.tick("#item-form", "Co-managed department of one organization")
    b.submit("#item-form")
    b.expect(b.find("#organizationId-error") is not None, "a co-managed department without its organization should be refused beside the field")
    b.choose("#organizationId", label="Northwind Traders")
    b.submit("#item-form")
    b.wait_for_path("/admin/departments/")
    b.expect("created" in b.text(".notice"), "creating a co-managed department should say so")
    options = [o.text for o in Select(b.find("#principalId")).options]
    b.expect(not any("MSP resource" in o for o in options), f"a co-managed department should offer no MSP resource, got {options}")
    add_member("Nina Novak (nina)")
    b.shot("admin-department-co-managed")
    b.follow("#delete-item")
    b.expect("Its one member leaves it." in b.text("#delete-impact"), "the delete should say how many members leave")
    b.shot("admin-department-delete")
    b.open("/admin/departments")
    b.expect(f"Field services {stamp}" in b.text("table") and f"Northwind IT {stamp}" in b.text("table"), "the list should show both departments")
    b.shot("admin-departments")
    b.logout()


def admin_people(b: Browser, stamp: str):
    """The resource and co-managing team pages: a client-restricted technician and a co-managing team made in the
    browser, the restriction checked through the API with the new technician's own token."""
    print("admin: a client-restricted technician through the resource pages")
    username = f"wendy{stamp}"
    password = "wendy-demo-2026"
    b.login("admin", "demo-admin-2026")
    b.open("/admin/resources")
    b.expect(b.text("h1") == "Resources", "the resources page should open from the admin tabs")
    b.shot("admin-resources")
    b.follow("a.button.primary[href='/admin/resources/new']")
    b.wait_for_path("/admin/resources/new")
    b.type("#firstName", "Wendy")
    b.type("#lastName", "Woodgrove")
    b.type("#username", "wendy smith")
    b.type("#email", f"{username}@msp.example")
    b.type("#password", password)
    b.choose("#securityLevelId", label="Technician")
    b.tick("#item-form", "No: only the organizations ticked below (client restrictions)")
    b.tick("#item-form", "Woodgrove Dental")
    b.tick("#item-form", "Service Desk")
    b.submit("#item-form")
    b.expect("contain only letters" in b.text("#username-error"), "a bad username should be shown beside its field")
    b.expect(b.find("#firstName").get_attribute("value") == "Wendy", "the form should keep what was typed")
    b.shot("admin-resource-refused")
    b.find("#username").clear()
    b.type("#username", username)
    b.type("#password", password)
    b.submit("#item-form")
    b.wait_for_path("/admin/resources/")
    b.expect("created" in b.text(".notice"), "creating a resource should say so")
    b.expect(b.find("#allCustomers-no").is_selected(), "the new technician should not be allowed all customers")
    b.shot("admin-resource-created")
    token = api(b, "POST", "/api/v1/auth/token", {"username": username, "password": password})["token"]
    request = urllib.request.Request(b.base_url + "/api/v1/tickets?limit=100", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=15) as response:
        tickets = json.loads(response.read())["items"]
    organizations = {t["organizationId"] for t in tickets}
    b.expect(len(tickets) > 0 and len(organizations) == 1, f"the restricted technician should see Woodgrove Dental's tickets only, got {organizations}")
    b.follow("#delete-item")
    b.wait_for_path("/admin/resources/")
    b.expect("Deactivate the resource" in b.text("h1") and "sessions" in b.text("#delete-impact"),
             "the deactivation should first say what it will change")
    b.shot("admin-resource-deactivate-confirm")

    print("admin: a co-managing team through its pages")
    b.open("/admin/co-managing-teams/new")
    b.type("#name", f"Northwind night shift {stamp}")
    b.tick("#item-form", "Nina Novak (nina) Northwind Traders")
    b.submit("#item-form")
    b.wait_for_path("/admin/co-managing-teams/")
    b.expect("created" in b.text(".notice"), "creating a co-managing team should say so")
    b.shot("admin-co-managing-team")
    b.open("/admin/co-managing-teams")
    b.expect(f"Northwind night shift {stamp}" in b.text("#items"), "the new team should be listed")
    b.shot("admin-co-managing-teams")

    print("admin: an organization's account manager and account team")
    b.open("/organizations")
    link = b.retry(lambda: b.driver.find_element(By.LINK_TEXT, "Northwind Traders").get_attribute("href"))
    b.driver.get(link)
    b.settle()
    b.expect("Co-managed" in b.text("#account-team"), "nina, associated with Northwind, should be on its account team, marked co-managed")
    b.choose("#resourceId", label="Tara Tech")
    b.submit("#add-account-member")
    b.expect("added" in b.text(".notice"), "adding to the account team should say so")
    b.choose("#accountManagerId", label="Nina Novak (nina) (co-managed)")
    b.submit("#account-manager-form")
    b.expect("Nina Novak" in b.text("#account-manager"), "nina should be the account manager")
    b.expect("Tara Tech" in b.text("#account-team table"), "tara should be on the account team")
    b.shot("organization-account-team")
    b.logout()


def ticket_work(b: Browser, stamp: str):
    """The ticket page's edit form: tara assigns and edits a ticket; a stale edit is refused with her input kept."""
    print("tara: assign and edit a ticket on its page")
    token = api(b, "POST", "/api/v1/auth/token", {"username": "admin", "password": "demo-admin-2026"})["token"]
    b.login("tara", "demo-tech-2026")
    b.open(f"/tickets?q={stamp}")
    b.follow("table.tickets tbody a")
    b.wait_for_path("/tickets/")
    ticket_id = b.driver.current_url.split("/tickets/")[1].split("?")[0].split("#")[0]
    b.retry(lambda: b.find("#edit-ticket summary").click())
    title = f"Printer on 3rd floor offline, fuser ordered ({stamp})"
    b.retry(lambda: b.find("#edit-title").clear())
    b.type("#edit-title", title)
    b.choose("#edit-priority", value="high")
    b.tick("#edit-form", "Tara Tech")
    b.driver.execute_script("document.querySelector('#edit-due').value = '2026-12-31T17:00'")
    b.shot("ticket-edit-form")
    b.submit("#edit-form")
    b.expect(b.text(".notice") == "The ticket was saved.", "saving the ticket should confirm")
    b.expect(title in b.text("h1"), "the new title should show")
    b.expect("Tara Tech" in b.text("#ticket-assignees"), f"tara should be assigned, got {b.text('#ticket-assignees')!r}")
    b.expect("31 Dec 2026" in b.text("#ticket-due"), "the due date should show")
    conversation = b.text("section[aria-labelledby=conversation-heading]")
    b.expect("assigned Tara Tech" in conversation and "changed the priority from" in conversation, "the change should be in the conversation")
    b.shot("ticket-edited")

    print("tara: a stale edit is refused with her input kept")
    b.retry(lambda: b.find("#edit-ticket summary").click())
    kept = f"Printer fixed, waiting for the user to confirm ({stamp})"
    b.retry(lambda: b.find("#edit-title").clear())
    b.type("#edit-title", kept)
    api(b, "PATCH", f"/api/v1/tickets/{ticket_id}", {"priority": "critical"}, token)
    b.submit("#edit-form")
    report = b.text("#stale-report")
    b.expect("changed the priority from High to Critical" in report, f"the refusal should say who changed what, got {report!r}")
    b.expect(b.find("#edit-title").get_attribute("value") == kept, "the refused form should keep the typed title")
    b.expect(kept not in b.text("h1"), "a stale form saves nothing")
    b.expect(Select(b.find("#edit-priority")).first_selected_option.get_attribute("value") == "critical", "the form should show the other change")
    b.shot("ticket-stale-edit-refused")
    b.submit("#edit-form")
    b.expect(b.text(".notice") == "The ticket was saved.", "saving again after the refusal should work")
    b.expect(kept in b.text("h1") and b.text(".priority") == "Critical", "the second save keeps both changes")
    b.logout()


def api_get(b: Browser, path: str, token: str) -> dict:
    request = urllib.request.Request(b.base_url + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.loads(response.read())


def list_ids(b: Browser):
    """The ticket ids the list page links to, in order."""
    return [href.rstrip("/").split("/")[-1].lower() for href in b.hrefs("table.tickets tbody td a")]


def status_counts(b: Browser):
    return {el.get_attribute("data-status-count"): int(el.text) for el in b.driver.find_elements(By.CSS_SELECTOR, "[data-status-count]")}


def fetch_status(b: Browser, path: str) -> int:
    """The HTTP status the browser's session gets for `path` (the page's own fetch, with its cookies)."""
    return b.driver.execute_script("return fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.status)", path)


def portal(b: Browser, stamp: str):
    """The contact portal: alice opens a ticket and replies; the MSP's public reply shows, its internal note and
    file are found by no page or URL."""
    print("alice (contact): open a ticket in the portal")
    b.login("alice@northwind.example", "demo-portal-2026")
    b.follow("a.button.primary[href='/tickets/new']")
    b.wait_for_path("/tickets/new")
    b.expect(len(b.driver.find_elements(By.CSS_SELECTOR, "#queueId, #contactId")) == 0, "the portal's new ticket form has no staff fields")
    title = f"Laptop will not charge ({stamp})"
    b.type("#title", title)
    b.type("#description", "The charging light stays off.")
    b.shot("portal-new-ticket")
    b.submit("form[action='/tickets/new']")
    b.wait_for_path("/tickets/")
    ticket_id = b.driver.current_url.split("?")[0].split("#")[0].rstrip("/").split("/")[-1]
    b.expect(title in b.text("h1"), "the new ticket's page shows its title")

    print("admin (API): a public reply, an internal note and an internal file on alice's ticket")
    token = api(b, "POST", "/api/v1/auth/token", {"username": "admin", "password": "demo-admin-2026"})["token"]
    public = f"A new charger is on its way ({stamp})."
    secret = f"PORTAL-SECRET internal: battery recall list ({stamp})"
    api(b, "POST", f"/api/v1/tickets/{ticket_id}/notes", {"body": public, "publishTo": "all"}, token)
    internal = api(b, "POST", f"/api/v1/tickets/{ticket_id}/notes", {"body": secret, "publishTo": "internal"}, token)["id"]
    comanaged = api(b, "POST", f"/api/v1/tickets/{ticket_id}/notes", {"body": f"PORTAL-SECRET co-managed ({stamp})", "publishTo": "internalAndCoManaged"}, token)["id"]
    file = api(b, "POST", f"/api/v1/tickets/{ticket_id}/attachments", {
        "filename": "recall-list.txt", "contentType": "text/plain", "publishTo": "internal",
        "content": base64.b64encode(b"PORTAL-SECRET file").decode()}, token)["id"]

    print("alice: the MSP's reply shows, the internal items do not; she replies")
    b.open(f"/tickets/{ticket_id}")
    source = b.driver.page_source
    b.expect(public in source, "alice sees the MSP's public reply")
    for hidden in ["PORTAL-SECRET", "recall-list.txt", internal, comanaged, file]:
        b.expect(hidden.lower() not in source.lower(), f"alice's ticket page must not show {hidden}")
    reply = f"Thank you, I will be in the office tomorrow ({stamp})."
    b.type("#note-body", reply)
    b.submit("form[action$='/notes']")
    b.expect(reply in b.driver.page_source, "alice's reply shows on her ticket")
    b.shot("portal-ticket-replied")
    for path in [f"/api/v1/tickets/{ticket_id}/notes/{internal}", f"/api/v1/tickets/{ticket_id}/notes/{comanaged}",
                 f"/api/v1/tickets/{ticket_id}/attachments/{file}", f"/api/v1/tickets/{ticket_id}/attachments/{file}/content"]:
        status = fetch_status(b, path)
        b.expect(status == 404, f"{path} should be not found for alice, got {status}")
    b.open(f"/api/v1/tickets/{ticket_id}/notes/{internal}")
    b.expect("PORTAL-SECRET" not in b.driver.page_source, "the internal note's URL shows nothing of it")
    b.open("/tickets?q=PORTAL-SECRET")
    b.expect(list_ids(b) == [], "searching the internal note's words finds no ticket")
    b.open("/api/v1/search?q=recall")
    b.expect(ticket_id.lower() not in b.driver.page_source.lower(), "the search API finds nothing by the internal note")
    b.open("/tickets")
    ids = list_ids(b)
    alice = api(b, "POST", "/api/v1/auth/token", {"username": "alice@northwind.example", "password": "demo-portal-2026"})["token"]
    theirs = [t["id"].lower() for t in api_get(b, "/api/v1/tickets?limit=25", alice)["items"]]
    total = api_get(b, "/api/v1/tickets/count", alice)["count"]
    b.expect(ids == theirs and ids[0] == ticket_id.lower(), f"alice's list is her API's list, newest first, got {ids[:3]}")
    counts = status_counts(b)
    b.expect(counts.get("All") == total and sum(counts.values()) == 2 * total,
             f"the status counts add up to alice's {total} tickets, got {counts}")
    b.shot("portal-ticket-list")
    b.logout()


def view_as(b: Browser, stamp: str):
    """"View as": admin views as nina and sees exactly the ticket ids nina's own session shows, read-only."""
    print("nina: her own ticket list (ids, counts, sorted by priority)")
    b.open("/login")
    b.type("#username", "nina")
    b.type("#password", "demo-comanaged-2026")
    b.submit("form[action='/login']")
    b.type("#password", "demo-comanaged-2026")
    # Her earlier login used a code of its time; the next one (accepted one step early) is surely unused.
    b.type("#totp", totp(NINA_TOTP_SECRET, time.time() + 30))
    b.submit("form[action='/login']")
    b.wait_for_path("/tickets")
    own = {}
    for path in ["/tickets", "/tickets?sort=-priority", "/tickets?sort=dueAt"]:
        b.open(path)
        own[path] = (list_ids(b), status_counts(b), b.text("#ticket-total"))
    b.open("/people")
    own_people = [el.get_attribute("data-person-id") for el in b.driver.find_elements(By.CSS_SELECTOR, "[data-person-id]")]
    b.logout()

    print("admin: view as nina")
    b.login("admin", "demo-admin-2026")
    admin_ids = list_ids(b)
    b.open("/admin/view-as")
    b.type("#q", "nina")
    b.submit("form[action='/admin/view-as'][method=get]")
    b.shot("admin-view-as-pick")
    b.submit("form[action='/admin/view-as'][method=post]")
    b.wait_for_path("/tickets")
    b.expect("Viewing as Nina Novak" in b.text(".view-as-banner"), "the view shows its banner")
    for path, (ids, counts, total) in own.items():
        b.open(path)
        b.expect(list_ids(b) == ids, f"{path}: the view shows {list_ids(b)}, nina's own session {ids}")
        b.expect(status_counts(b) == counts and b.text("#ticket-total") == total, f"{path}: the counts differ from nina's own")
    b.open("/tickets")
    b.shot("admin-view-as-nina-tickets")
    b.open("/people")
    people = [el.get_attribute("data-person-id") for el in b.driver.find_elements(By.CSS_SELECTOR, "[data-person-id]")]
    b.expect(people == own_people, "the people directory in the view is nina's")
    hidden = [i for i in admin_ids if i not in own["/tickets"][0]]
    if hidden:
        b.open(f"/tickets/{hidden[0]}")
        b.expect(b.text("h1") == "Not found", "a ticket nina cannot see is not found in the view")
    b.open(f"/tickets/{own['/tickets'][0][0]}")
    b.shot("admin-view-as-nina-ticket")
    b.type("#note-body", f"Written while viewing ({stamp})")
    b.submit("form[action$='/notes']")
    b.expect(b.text("h1") == "Not allowed" and "read-only" in b.driver.page_source, "a form posted while viewing is refused")
    b.open("/tickets")
    b.submit(".view-as-banner form")
    b.wait_for_path("/admin/view-as")
    b.expect(len(b.driver.find_elements(By.CSS_SELECTOR, ".view-as-banner")) == 0, "stopping the view removes the banner")
    b.open("/admin/audit?action=viewedAs")
    rows = [row.text for row in b.driver.find_elements(By.CSS_SELECTOR, "table.audit-log tbody tr")]
    b.expect(rows and "viewedAs" in rows[0] and "Admin" in rows[0], f"the audit log records the view by the administrator, got {rows[:1]}")
    b.shot("admin-view-as-audited")

    print("admin: explain access on an organization page")
    b.open("/organizations")
    b.follow("main a[href^='/organizations/']")
    b.wait_for_path("/organizations/")
    b.choose("#explain-subject", label="Nina Novak (nina), Northwind Traders")
    b.submit("#explain-access form")
    result = b.text("#explain-result")
    b.expect(("Can see it" in result) == ("Northwind" in b.text("h1")), f"explain should allow nina exactly her own organization, got {result!r}")
    b.shot("admin-explain-organization-access")
    b.logout()


def mail_code(b: Browser, to: str, seen: set, timeout: float = 30) -> tuple:
    """The one-time code of the first new mail to `to` in the SMTP sink's directory, and the mail's file name."""
    import json, re
    deadline = time.time() + timeout
    while time.time() < deadline:
        for path in sorted(b.mail_dir.glob("*.json")):
            if path.name in seen:
                continue
            message = json.loads(path.read_text())
            match = re.search(r"[Cc]ode:? (\d{6})", message["data"])
            if to in message["to"] and match:
                return match.group(1), path.name
        time.sleep(0.5)
    raise AssertionError(f"no code reached {to} within {timeout} s")


def security_request(b: Browser, stamp: str):
    """Issue 19's flow: tara opens a password reset for another user on a Seattle HQ ticket; the approver's code
    arrives at the real SMTP server; the approver enters it on their page; the ticket shows the evidence."""
    print("tara: a password reset for another user needs the approver's code")
    b.expect(b.mail_dir is not None, "browser_check.py needs --mail-dir (scripts/browser-check passes the SMTP sink's)")
    seen = {path.name for path in b.mail_dir.glob("*.json")}
    b.login("tara", "demo-tech-2026")
    b.open("/tickets/new")
    b.choose("#organizationId", label="Northwind Traders")
    b.submit("form[action='/tickets/new']")
    b.type("#title", f"Reset the shared scanner password ({stamp})")
    b.choose("#siteId", label="Seattle HQ")
    b.choose("#contactId", label="Anders, Alice (alice@northwind.example)")
    b.submit("form[action='/tickets/new']")
    b.wait_for_path("/tickets/")
    ticket_url = b.driver.current_url.split("?")[0]
    b.retry(lambda: b.find("#open-security-request summary").click())
    b.choose("#sr-category", value="passwordReset")
    b.type("#sr-details", "The user is locked out after the holidays; reset and send a temporary password.")
    b.submit("#security-request-form")
    b.expect("whose password" in b.text("#sr-password-target-error"), "a password reset without whose password should say so beside the field")
    b.expect("locked out" in b.find("#sr-details").get_attribute("value"), "the refused form should keep the details")
    b.shot("security-request-refused")
    b.choose("#sr-password-target", value="anotherUser")
    b.shot("security-request-form")
    b.submit("#security-request-form")
    b.expect(b.text(".notice") == "The security request was opened.", "opening should confirm")
    article = b.find("#security-requests article")
    request_id = article.get_attribute("id").removeprefix("security-request-")
    b.expect("Asking the approvers" in article.text, f"the request should be asking its approvers, got {article.text!r}")
    b.expect("another user's password always needs approval" in article.text, "the panel should say why")
    b.shot("security-request-opened")
    b.logout()

    print("alice: the code arrives by mail; she approves on the approver's page")
    code, _ = mail_code(b, "alice@northwind.example", seen)
    b.open(f"/approvals/{request_id}")
    b.expect(b.text("h1") == "A security request needs your answer", "the approver's page should open without a login")
    b.expect("locked out" not in b.driver.page_source, "the approver's page shows nothing of the request before the code")
    b.shot("approver-page")
    b.type("#approval-code", "000000" if code != "000000" else "111111")
    b.submit("#approval-form")
    b.expect("wrong code" in b.text("#approval-code-error").lower(), "a wrong code should be refused beside the field")
    b.type("#approval-code", code)
    b.submit("#approval-form")
    done = b.text("#approval-done")
    b.expect("You approved the request: Password reset" in done, f"the approver should be told what they did, got {done!r}")
    b.shot("approver-approved")

    print("tara: the ticket shows who approved, how and when")
    b.login("tara", "demo-tech-2026")
    b.driver.get(ticket_url)
    evidence = b.text("#security-requests .evidence")
    b.expect("Approved by Alice Anders, authenticated with their one-time code" in evidence, f"the evidence should show, got {evidence!r}")
    conversation = b.text("section[aria-labelledby=conversation-heading]")
    b.expect("approved the security request" in conversation, "the approval should be in the conversation")
    b.shot("security-request-evidence")
    b.logout()


def nina_people_as_viewed(b: Browser) -> str:
    """The co-managing users of nina's people directory, read through "view as" (no code needed); admin is logged in."""
    b.open("/admin/view-as")
    b.type("#q", "nina")
    b.submit("form[action='/admin/view-as'][method=get]")
    b.submit("form[action='/admin/view-as'][method=post]")
    b.wait_for_path("/tickets")
    b.open("/people?kind=coManagingUser")
    people = " | ".join(row.text for row in b.driver.find_elements(By.CSS_SELECTOR, "[data-person-id]"))
    b.open("/tickets")
    b.submit(".view-as-banner form")
    b.wait_for_path("/admin/view-as")
    return people


def organization_groups(b: Browser, stamp: str):
    """Organization groups and the customer group override: the admin groups Northwind Traders with Contoso
    Pharmaceuticals in the browser; nina (Northwind) then finds omar (Contoso) in her people directory, as "view as"
    shows it; the organization and co-managing user pages name the group; deleting it asks first."""
    print("admin: an organization group through its pages, and nina's people directory before and after")
    b.login("admin", "demo-admin-2026")
    before = nina_people_as_viewed(b)
    b.expect("Nina" in before and "Omar" not in before, f"without a group nina should see only Northwind's co-managing users, got {before!r}")
    b.open("/admin/organization-groups")
    b.expect(b.text("h1") == "Organization groups", "the organization groups page should open from the admin tabs")
    b.shot("admin-organization-groups")
    b.follow("a.button.primary[href='/admin/organization-groups/new']")
    b.wait_for_path("/admin/organization-groups/new")
    b.tick("#item-form", "Northwind Traders")
    b.submit("#item-form")
    b.expect(b.find("#name-error").text.strip() != "", "a missing name should be shown beside its field")
    b.shot("admin-organization-group-refused")
    name = f"Northwind family {stamp}"
    b.type("#name", name)
    b.tick("#item-form", "Contoso Pharmaceuticals")
    b.submit("#item-form")
    b.wait_for_path("/admin/organization-groups/")
    b.expect("created" in b.text(".notice"), "creating an organization group should say so")
    group_url = b.driver.current_url.split("?")[0]
    b.shot("admin-organization-group-created")
    after = nina_people_as_viewed(b)
    b.expect("Omar" in after, f"grouped with Contoso, nina should see omar, Contoso's co-managing user, got {after!r}")
    b.open("/organizations")
    link = b.retry(lambda: b.driver.find_element(By.LINK_TEXT, "Northwind Traders").get_attribute("href"))
    b.driver.get(link)
    b.settle()
    b.expect(name in b.text("#organization-group") and "Contoso" in b.text("#organization-group"), "the organization page should name its group")
    b.shot("organization-group-panel")
    b.open("/admin/co-managing-users")
    users = b.retry(lambda: b.driver.find_element(By.PARTIAL_LINK_TEXT, "Nina Novak").get_attribute("href"))
    b.driver.get(users.split("?")[0] + "?tab=security")
    b.settle()
    b.expect(name in b.text("#group-override-form") and b.find("#customerGroupOverride").is_selected(),
             "nina's page should show her organization's group with the override on")
    b.shot("co-managing-user-group-override")
    b.driver.get(group_url)
    b.settle()
    b.follow("#delete-item")
    b.wait_for_path("/admin/organization-groups/")
    impact = b.text("#delete-impact")
    b.expect("Northwind Traders" in impact and "co-managing user" in impact, "the delete should first say what it changes")
    b.shot("admin-organization-group-delete-confirm")
    b.submit("#delete-impact form")
    b.wait_for_path("/admin/organization-groups")
    b.expect("deleted" in b.text(".notice"), "deleting the group should say so")
    b.logout()


def tab_to(b: Browser, css: str, limit: int = 400):
    """Presses Tab until the element `css` has the focus, as a keyboard user would; fails if it never does."""
    target = b.find(css)
    for _ in range(limit):
        if b.driver.switch_to.active_element == target:
            return target
        b.driver.switch_to.active_element.send_keys(Keys.TAB)
    raise CheckFailed(f"{css} cannot be reached with the Tab key")


def keyboard_only(b: Browser, stamp: str):
    """The main flow by keyboard alone: tara logs in, opens a ticket from the list and adds a note, with Tab,
    typing and Enter only (no clicks)."""
    print("tara: log in, open a ticket and add a note by keyboard alone")
    b.open("/login")
    tab_to(b, "#username").send_keys("tara")
    tab_to(b, "#password").send_keys("demo-tech-2026")
    old = b.driver.find_element(By.TAG_NAME, "html")
    b.driver.switch_to.active_element.send_keys(Keys.ENTER)
    b.wait_replaced(old)
    b.wait_for_path("/tickets")
    link = tab_to(b, "table.tickets tbody a")
    old = b.driver.find_element(By.TAG_NAME, "html")
    link.send_keys(Keys.ENTER)
    b.wait_replaced(old)
    b.wait_for_path("/tickets/")
    note = f"Typed without a mouse ({stamp})."
    tab_to(b, "#note-body").send_keys(note)
    button = tab_to(b, "#composer-form button[type=submit]")
    old = b.driver.find_element(By.TAG_NAME, "html")
    button.send_keys(Keys.ENTER)
    b.wait_replaced(old)
    b.expect(b.text(".notice") == "Your note was added.", "the note added by keyboard should be confirmed")
    b.expect(note in b.text("section[aria-labelledby=conversation-heading]"), "the note should be in the conversation")
    b.shot("keyboard-only-note")
    b.logout()


def credential_vault(b: Browser, stamp: str):
    """The credential vault (issue 20): the admin adds a password to a site's Passwords tab (a missing name is
    refused beside its field first), reveals it once on the answer page, finds it nowhere in the list, and is
    asked before deleting it."""
    print("admin: a site's Passwords tab, add a password, reveal it, delete it")
    secret = f"Vault-{stamp}-s3cret!"
    b.login("admin", "demo-admin-2026")
    b.open("/organizations")
    link = b.retry(lambda: b.driver.find_element(By.LINK_TEXT, "Northwind Traders").get_attribute("href"))
    b.driver.get(link)
    b.settle()
    b.follow("a[href^='/sites/']")
    b.wait_for_path("/sites/")
    b.follow("#site-passwords")
    b.wait_for_path("/sites/")
    b.expect(b.text("h1") == "Passwords", "the site page should link to its Passwords tab")
    b.choose("#kind", value="lightsOutManagement")
    b.type("#secret", secret)
    b.submit("#credential-form")
    b.expect(b.find("#name-error").text.strip() != "", "a missing name should be shown beside its field")
    b.expect(secret not in b.driver.page_source, "a refused form should not echo the password")
    b.shot("vault-field-error")
    b.type("#name", f"iLO {stamp}")
    b.type("#username", "Administrator")
    b.type("#secret", secret)
    b.submit("#credential-form")
    b.wait_for_path("/credentials/")
    b.expect("added" in b.text(".notice"), "adding a password should say so")
    b.expect(secret not in b.driver.page_source, "the entry's page should not show the password")
    b.shot("vault-entry")
    b.submit("form[action$='/reveal']")
    b.expect(b.text("#revealed-secret") == secret, "revealing should show the password once")
    b.shot("vault-revealed")
    b.follow("a[href$='/passwords']")
    b.expect(f"iLO {stamp}" in b.text("#credential-list") and secret not in b.driver.page_source, "the list should name the entry, never its password")
    b.shot("vault-list")
    b.follow(f"#credential-list a[href^='/credentials/']")
    b.follow("#delete-credential")
    b.expect("removed from the vault" in b.text("#delete-impact"), "deleting should first say what it changes")
    b.shot("vault-delete-confirm")
    b.submit("#delete-impact form")
    b.wait_for_path("/sites/")
    b.expect("deleted" in b.text(".notice"), "deleting the entry should say so")
    b.logout()


def site_network(b: Browser, stamp: str):
    """The site's network information: a wrong IP address refused beside the printers with its line, then saved;
    the page says the activation checklist's item is done."""
    print("admin: a site's network information")
    b.login("admin", "demo-admin-2026")
    b.open("/organizations")
    site = b.retry(lambda: b.driver.find_element(By.LINK_TEXT, "Portland Warehouse").get_attribute("href"))
    b.driver.get(site)
    b.settle()
    b.follow("#site-network")
    b.wait_for_path("/sites/")
    b.expect(b.text("h1") == "Network information", "the site page should link to its network information")
    b.type("#printers", f"network laser | Dock printer {stamp} | HP M404 | 10.0.0.300")
    b.type("#emailProvider", "Microsoft 365")
    b.type("#activeDirectoryServer", "DC01")
    b.submit("#network-form")
    b.expect("line 1, ipAddress" in b.text("#printers-error"), "a wrong IP address should be shown beside the printers with its line")
    b.shot("site-network-refused")
    b.retry(lambda: b.find("#printers").clear())
    b.type("#printers", f"network laser | Dock printer {stamp} | HP M404 | 10.0.0.30")
    b.submit("#network-form")
    b.expect("was saved" in b.text(".notice"), "saving should say so")
    b.expect("is provided" in b.text("#network-present"), "the checklist's item should be done")
    b.shot("site-network-saved")
    b.logout()


def references(b: Browser, stamp: str):
    """References (issue 20): the admin adds one to a site's References tab in Markdown with a tag (a missing title is
    refused beside its field first), sees it rendered, follows its tag to the list of references tagged so, and edits it."""
    print("admin: a site's References tab, add a reference in Markdown, follow its tag")
    b.login("admin", "demo-admin-2026")
    b.open("/organizations")
    site = b.retry(lambda: b.driver.find_element(By.LINK_TEXT, "Portland Warehouse").get_attribute("href"))
    b.driver.get(site)
    b.settle()
    b.follow("#site-references")
    b.wait_for_path("/sites/")
    b.expect(b.text("h1") == "References", "the site page should link to its References tab")
    b.type("#body", f"# Password resets {stamp}\n\nCall the **owner** first.\n\n- check the caller\n- send the code")
    b.type("#tags", "Security related requests, howto")
    b.submit("#reference-form")
    b.expect(b.find("#title-error").text.strip() != "", "a missing title should be shown beside its field")
    b.shot("reference-field-error")
    b.type("#title", f"Password resets {stamp}")
    b.submit("#reference-form")
    b.wait_for_path("/references/")
    b.expect("added" in b.text(".notice"), "adding a reference should say so")
    b.expect(b.text("#reference-body h1") == f"Password resets {stamp}", "the Markdown heading should be rendered")
    b.expect(b.text("#reference-body strong") == "owner", "the Markdown emphasis should be rendered")
    b.shot("reference-rendered")
    b.follow("a.tag[href*='security-related-requests']")
    b.wait_for_path("/sites/")
    b.expect(f"Password resets {stamp}" in b.text("#reference-list"), "the tag should list the reference")
    b.shot("references-tagged")
    b.follow("#reference-list a[href^='/references/']")
    b.wait_for_path("/references/")
    b.retry(lambda: b.find("#title").clear())
    b.type("#title", f"Password resets (v2) {stamp}")
    b.submit("#reference-form")
    b.expect("saved" in b.text(".notice"), "saving should say so")
    b.expect(b.text("h1") == f"Password resets (v2) {stamp}", "the new title should be shown")
    b.logout()


def references_xss(b: Browser, stamp: str):
    """The XSS corpus (Tests/Fixtures/xss/payloads.json, issue 20): each payload is a reference's Markdown, opened in
    Chromium. No dialog opens, no payload's script runs (they set window.__xss), and the rendered body holds no
    script, frame, event handler or javascript: URL."""
    payloads = json.loads((Path(__file__).resolve().parent.parent / "Tests/Fixtures/xss/payloads.json").read_text())
    print(f"admin: {len(payloads)} XSS payloads as references, each opened in Chromium")
    if len(payloads) < 50:
        raise CheckFailed("the XSS corpus should hold at least 50 payloads")
    token = api(b, "POST", "/api/v1/auth/token", {"username": "admin", "password": "demo-admin-2026"})["token"]
    ids, refused = [], 0
    for index, payload in enumerate(payloads):
        try:
            ids.append(api(b, "POST", "/api/v1/references", {"title": f"XSS {index} {stamp}", "body": payload, "tags": ["xss-corpus"]}, token)["id"])
        except urllib.error.HTTPError as error:
            # A payload with a control character (NUL) is refused whole: nothing is stored, so nothing renders.
            if error.code != 422 or not any(ord(c) < 32 and c not in "\n\r\t" for c in payload):
                raise
            ids.append(None)
            refused += 1
    print(f"  {len(payloads) - refused} stored, {refused} refused by the API (control characters)")
    b.login("admin", "demo-admin-2026")
    inspect = """
        const body = document.getElementById('reference-body');
        const bad = [];
        for (const element of body.querySelectorAll('*')) {
            const name = element.tagName.toLowerCase();
            if (['script', 'iframe', 'object', 'embed', 'svg', 'math', 'style', 'link', 'meta', 'base', 'form', 'input',
                 'button', 'textarea', 'select', 'video', 'audio', 'frame', 'frameset', 'template'].includes(name)) bad.push(name);
            for (const attribute of element.attributes) {
                const value = attribute.value.replace(/[\u0000-\u0020]/g, '').toLowerCase();
                if (attribute.name.startsWith('on') || attribute.name === 'style' || attribute.name === 'srcdoc') bad.push(name + '@' + attribute.name);
                if (/^(javascript|vbscript|data):/.test(value)) bad.push(name + '@' + attribute.name + '=' + value);
            }
        }
        return {xss: window.__xss === undefined ? null : window.__xss, bad: bad, scripts: document.scripts.length};
    """
    baseline = None
    for index, reference in enumerate(ids):
        if reference is None:
            continue
        try:
            b.driver.get(f"{b.base_url}/references/{reference}")
            try:
                alert = b.driver.switch_to.alert
                text = alert.text
                alert.dismiss()
                raise CheckFailed(f"payload {index} opened a dialog ({text!r}): {payloads[index]!r}")
            except NoAlertPresentException:
                pass
            b.settle()
            found = b.driver.execute_script(inspect)
        except UnexpectedAlertPresentException as error:
            raise CheckFailed(f"payload {index} opened a dialog ({error.alert_text!r}): {payloads[index]!r}")
        if baseline is None:
            baseline = found["scripts"]
        b.expect(found["xss"] is None, f"payload {index} ran a script: {payloads[index]!r}")
        b.expect(not found["bad"], f"payload {index} left {found['bad']} in the page: {payloads[index]!r}")
        b.expect(found["scripts"] == baseline, f"payload {index} added a script element: {payloads[index]!r}")
    b.shot("reference-xss-inert")
    b.logout()


def sla(b: Browser, stamp: str):
    """SLA policies: the demo's listed, one edited with a refusal beside its field first; a ticket's SLA panel and,
    on a co-managed ticket, the handoff to the client's IT."""
    print("admin: SLA policies and a ticket's SLA panel")
    b.login("admin", "demo-admin-2026")
    b.open("/admin/sla-policies")
    b.expect("Northwind Traders · High" in b.text("#items"), "the demo's SLA policies should be listed")
    b.shot("admin-sla-policies")
    link = b.retry(lambda: b.driver.find_element(By.LINK_TEXT, "Northwind Traders · High").get_attribute("href"))
    b.driver.get(link)
    b.settle()
    b.retry(lambda: b.find("#firstResponseMinutes").clear())
    b.type("#firstResponseMinutes", "ten")
    b.submit("#item-form")
    b.expect("whole number" in b.text("#firstResponseMinutes-error"), "a number that is not one should be refused beside its field")
    b.shot("admin-sla-policy-refused")
    b.retry(lambda: b.find("#firstResponseMinutes").clear())
    b.type("#firstResponseMinutes", "60")
    b.submit("#item-form")
    b.expect("saved" in b.text(".notice"), "saving the policy should say so")

    token = api(b, "POST", "/api/v1/auth/token", {"username": "admin", "password": "demo-admin-2026"})["token"]
    northwind = next(o for o in api_get(b, "/api/v1/organizations?limit=100", token)["items"] if o["name"] == "Northwind Traders")
    ticket = api(b, "POST", "/api/v1/tickets", {"organizationId": northwind["id"], "title": f"Line down at the warehouse {stamp}",
                                                "priority": "high", "coManagedVisible": True}, token)
    b.open(f"/tickets/{ticket['id']}")
    b.expect("First response" in b.text("#sla"), "the ticket page should show the SLA panel")
    b.shot("ticket-sla")
    if b.driver.find_elements(By.CSS_SELECTOR, "#handoff-submit"):
        b.type("#handoff-reason", "Their firewall change")
        b.submit("form.handoff")
        b.expect("handed over" in b.text(".notice"), "the handoff should say so")
        b.expect("Client IT" in b.text("#sla-side"), "the client's IT should hold the ticket")
        b.shot("ticket-handed-off")
    b.logout()


def organization_report(b: Browser):
    """An organization's report: its charts are SVG drawn by the server, and every bar and point carries the number
    the table beside it shows."""
    print("admin: an organization's report, the charts against their tables")
    b.login("admin", "demo-admin-2026")
    b.open("/reports")
    b.expect(b.text("h1") == "Reports", "the reports page should open from the main navigation")
    report = b.retry(lambda: next(a.get_attribute("href") for a in b.driver.find_elements(By.CSS_SELECTOR, "main table a")
                                  if "Northwind" in a.get_attribute("textContent")))
    b.driver.get(report)
    b.settle()
    b.expect(b.text("h1").startswith("Report: Northwind"), "the report of Northwind should open")
    checked = 0
    for chart, table in (("#tickets-chart", "#tickets-table"), ("#resolution-chart", "#resolution-table")):
        cells = {}
        for row in b.driver.find_elements(By.CSS_SELECTOR, f"{table} tbody tr"):
            for cell in row.find_elements(By.CSS_SELECTOR, "td[data-series]"):
                cells[(row.get_attribute("data-category"), cell.get_attribute("data-series"))] = cell.text.strip()
        marks = b.driver.find_elements(By.CSS_SELECTOR, f"{chart} [data-value]")
        b.expect(cells, f"the table {table} should have rows")
        for mark in marks:
            key = (mark.get_attribute("data-category"), mark.get_attribute("data-series"))
            b.expect(cells.get(key) == mark.get_attribute("data-value"),
                     f"{chart}: {key} is drawn as {mark.get_attribute('data-value')} but the table says {cells.get(key)!r}")
            checked += 1
        drawn = {(m.get_attribute("data-category"), m.get_attribute("data-series")) for m in marks}
        missing = [key for key, value in cells.items() if value != "" and key not in drawn]
        b.expect(not missing, f"{chart}: the table's numbers {missing[:3]} have no bar or point")
    b.expect(checked > 0, "the charts should draw the table's numbers")
    b.expect("format=csv" in (b.find("a[download]").get_attribute("href") or ""), "the report should offer its CSV")
    b.shot("organization-report")
    b.logout()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", default="http://127.0.0.1:8181")
    parser.add_argument("--out", default="artifacts/screenshots")
    parser.add_argument("--mail-dir", default=None, help="the SMTP sink's directory (scripts/smtp-sink.py), for codes sent by mail")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for old in list(out.glob("*.png")) + list(out.glob("failure.html")):
        old.unlink()

    browser = Browser(args.base_url, out)
    browser.mail_dir = Path(args.mail_dir) if args.mail_dir else None
    try:
        run(browser)
    except Exception as error:  # noqa: BLE001 - any failure is reported the same way
        browser.driver.save_screenshot(str(out / "failure.png"))
        (out / "failure.html").write_text(browser.driver.page_source)
        print(f"browser-check: FAILED at {browser.driver.current_url}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        browser.close()
    if browser.axe is None:
        print("browser-check: axe-selenium-python is missing; the accessibility check did not run", file=sys.stderr)
        return 1
    if browser.violations:
        print(f"browser-check: {len(browser.violations)} serious or critical accessibility violations (axe-core):", file=sys.stderr)
        for violation in browser.violations:
            print(f"  {violation}", file=sys.stderr)
        return 1
    print(f"browser-check: passed, axe-core found no serious or critical violation on {browser.step} pages; screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
