from faq.cli import run

run()
