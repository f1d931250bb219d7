#!/usr/bin/env python3
"""The pages in a real browser: scripts/browser-check starts the server and runs this.

Each step saves a screenshot; any failed check stops the run with a non-zero exit,
after saving failure.png and failure.html next to the screenshots.
"""
import argparse
import sys
import time
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait


class CheckFailed(Exception):
    pass


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

    def close(self):
        self.driver.quit()

    def open(self, path: str):
        self.driver.get(self.base_url + path)
        self.settle()

    def settle(self):
        WebDriverWait(self.driver, 15).until(lambda d: d.execute_script("return document.readyState") == "complete")

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
        WebDriverWait(self.driver, 15).until(EC.staleness_of(old))
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

    def expect(self, condition: bool, message: str):
        if not condition:
            raise CheckFailed(message)

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
    b.choose("#note-publish", value="internalAndCoManaged")
    b.submit("form[action$='/notes']")
    b.expect(b.text(".notice") == "Your note was added.", "adding a note should confirm")
    items = [item for item in b.driver.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=notes-heading] li.item") if note in item.text]
    b.expect(len(items) == 1, "the note should appear once on the ticket")
    badge = items[0].find_element(By.CSS_SELECTOR, ".badge").text
    b.expect(badge == "Internal & co-managed", f"the note should show its publish-to, got {badge!r}")
    b.shot("note-added")

    print("tara: change the status")
    b.choose("#new-status", value="inProgress")
    b.submit("form[action$='/status']")
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
    b.follow("a[href^='/sites/']")
    b.wait_for_path("/sites/")
    b.shot("site")
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", default="http://127.0.0.1:8181")
    parser.add_argument("--out", default="artifacts/screenshots")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for old in list(out.glob("*.png")) + list(out.glob("failure.html")):
        old.unlink()

    browser = Browser(args.base_url, out)
    try:
        run(browser)
    except Exception as error:  # noqa: BLE001 - any failure is reported the same way
        browser.driver.save_screenshot(str(out / "failure.png"))
        (out / "failure.html").write_text(browser.driver.page_source)
        print(f"browser-check: FAILED at {browser.driver.current_url}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        browser.close()
    print(f"browser-check: passed; screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
