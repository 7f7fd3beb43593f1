"""Strings that trip tokenizers up, shared by the tokenizer tests."""

TRICKY = [
    "Hello, World!",
    "don't STOP-me.now",
    "  leading and   trailing  ",
    "tabs\tand\nnewlines\r\nand\x0bvertical\x0cfeeds",
    "ÉCOLE Über ÀB naïve ΣΑΣ İstanbul",
    "non\xa0breaking\u2003em space",
    "a_b c~d e|f g{h}i [j] (k) <l> @m #n $o %p ^q &r *s +t =u ?v /w \\x `y \"z\"",
    "emoji 🎬 film… «quoted» — dash – en",
    "numbers 3.14 1,000 50%",
    "",
    "!!!",
    "line\u2028separator\x85next\x1cfile",
]
