from evaluation.text import contains, normalize


def test_azerbaijani_capital_dotted_i_matches_lowercase_fact():
    assert contains("İSTİ HAVADA SUVARIN", "isti havada")


def test_dotless_and_dotted_i_fold_together():
    assert normalize("Işıq") == normalize("işiq") == normalize("IŞIQ")


def test_english_capital_i_still_matches():
    assert contains("Irrigate IN THE MORNING", "irrigate in the morning")


def test_schwa_and_other_azerbaijani_letters_stay_distinct():
    assert not contains("seher", "səhər")
    assert contains("SƏHƏR tezdən", "səhər")


def test_punctuation_and_spacing_do_not_block_a_match():
    assert contains("Doza: 14,2   ha!", "14,2 ha")
