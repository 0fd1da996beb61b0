"""What every layer reads: the settings (`config`), the county file (`county`: municipalities, offices, services,
staff) and languages with their formatting (`i18n`: catalogs, CLDR dates and numbers, right-to-left isolates).
Nothing here knows about Telegram or the database."""
