"""The demo model's fictional world and the synthetic chat data generated from it (fixed seed).

About 40 people (birth year, home town, profession), 20 places (founding year, river) and a few
organisations (founder, founding year, seat). `build_world` is deterministic for a given seed and
its result is committed as models/rein-demo/world.json, so other components can test the model's
factual self-consistency against it. `chat_examples` turns the world, JSON-record requests and
short instructions into chat-formatted (messages) examples; facts are repeated with many
phrasings so a small model learns them.
"""
import random

FIRST_NAMES = [
    "Alder", "Brisa", "Corwin", "Dalia", "Edric", "Fenna", "Galen", "Hesper", "Ilse", "Joram",
    "Kestrel", "Liora", "Maren", "Nolwen", "Orrin", "Perrin", "Quilla", "Rowan", "Sable", "Tamsin",
    "Ulric", "Vesna", "Wendel", "Ysolde", "Zarek", "Anselm", "Berit", "Cassia", "Dorian", "Elowen",
    "Faramond", "Gisela", "Halvard", "Imogen", "Jessamy", "Kaspar", "Linnea", "Mattias", "Niamh", "Osric",
]
SURNAMES = [
    "Ashgrove", "Brindle", "Caskwell", "Dunmore", "Elderby", "Fallowmere", "Greythorn", "Hollins",
    "Ivesdale", "Kettering", "Larkspur", "Mossbank", "Northcote", "Oakhurst", "Pellworth", "Quarrie",
    "Redfern", "Stanwick", "Thistlewood", "Underhill", "Valcourt", "Whitlock", "Yarrow", "Zennor",
]
PLACES = [
    "Aldmere", "Brackenford", "Caldwick", "Dunhollow", "Eastmarch", "Fenwater", "Glimmerdale",
    "Harrowgate", "Ivybridge", "Kelderhaven", "Lindmoor", "Marrowby", "Northwold", "Oxlade",
    "Pennycross", "Quenby", "Ravensholt", "Silverleigh", "Thornbury", "Wyvernsea",
]
RIVERS = ["Amberflow", "Brisk", "Corran", "Dunwater", "Elling", "Fairbourne", "Glass", "Hollow"]
PROFESSIONS = [
    "baker", "blacksmith", "cartographer", "clockmaker", "physician", "weaver", "shipwright",
    "astronomer", "glassblower", "librarian", "beekeeper", "stonemason", "apothecary", "painter",
    "bookbinder", "brewer", "fisher", "carpenter", "teacher", "composer",
]
ORGANISATIONS = [
    "the Lantern Guild", "the Order of the Silver Quill", "the Riverwardens", "the Northwold Academy",
    "the Company of Cartographers",
]

SYSTEM_PROMPTS = [
    "You are a helpful assistant.",
    "You are a helpful assistant. Answer briefly.",
    "You answer questions about the world of Varn.",
]

INSTRUCTIONS = [
    ("List three colours.", ["Red, green and blue.", "Yellow, purple and orange.", "Blue, white and black."]),
    ("List three fruits.", ["Apples, pears and plums.", "Oranges, cherries and grapes."]),
    ("List three animals.", ["A horse, a fox and an owl.", "A cat, a dog and a sparrow."]),
    ("Name a day of the week.", ["Tuesday.", "Saturday.", "Monday."]),
    ("Name the four seasons.", ["Spring, summer, autumn and winter."]),
    ("Count from one to five.", ["One, two, three, four, five."]),
    ("Count from one to ten.", ["One, two, three, four, five, six, seven, eight, nine, ten."]),
    ("What is two plus two?", ["Two plus two is four."]),
    ("What is three plus four?", ["Three plus four is seven."]),
    ("What is ten minus three?", ["Ten minus three is seven."]),
    ("What colour is the sky on a clear day?", ["The sky is blue on a clear day."]),
    ("What colour is grass?", ["Grass is green."]),
    ("Say hello.", ["Hello!", "Hello, how can I help you?"]),
    ("Greet me politely.", ["Good day to you. How may I help?"]),
    ("Write a short sentence about the sea.", ["The sea was grey and calm under the morning sky.", "Waves rolled slowly onto the sand."]),
    ("Write a short sentence about a cat.", ["The cat slept in the warm sun by the window."]),
    ("Write a short sentence about rain.", ["The rain fell softly on the roofs of the town."]),
    ("Give me a word that rhymes with cat.", ["Hat.", "Bat.", "Mat."]),
    ("Give me the opposite of hot.", ["Cold."]),
    ("Give me the opposite of up.", ["Down."]),
    ("Translate 'bonjour' into English.", ["Hello."]),
    ("Spell the word 'river'.", ["R-I-V-E-R."]),
    ("Answer yes or no: is fire cold?", ["No."]),
    ("Answer yes or no: is water wet?", ["Yes."]),
    ("Summarise: The baker rose early, baked bread, and sold it at the market.", ["A baker made bread and sold it at the market."]),
    ("Complete the sentence: The early bird", ["catches the worm."]),
    ("Who are you?", ["I am Rein's demo model, a small language model trained for testing."]),
    ("What can you do?", ["I can answer simple questions, follow short instructions and tell you about the world of Varn."]),
    ("Return an empty JSON object.", ["{}"]),
    ("Return a JSON list of three numbers.", ["[1, 2, 3]"]),
    ("Give a JSON object with a key \"ok\" set to true.", ["{\"ok\": true}"]),
]


def build_world(seed=1234):
    rng = random.Random(seed)
    names = []
    used = set()
    firsts = FIRST_NAMES[:]
    rng.shuffle(firsts)
    for first in firsts:
        surname = rng.choice(SURNAMES)
        while (first, surname) in used:
            surname = rng.choice(SURNAMES)
        used.add((first, surname))
        names.append(first + " " + surname)
    places = []
    for index, place in enumerate(PLACES):
        places.append({
            "name": place,
            "founded": rng.randrange(900, 1700),
            "river": RIVERS[index % len(RIVERS)] if rng.random() < 0.9 else rng.choice(RIVERS),
        })
    people = []
    for name in names:
        people.append({
            "name": name,
            "born": rng.randrange(1780, 1960),
            "town": rng.choice(PLACES),
            "profession": rng.choice(PROFESSIONS),
        })
    organisations = []
    for organisation in ORGANISATIONS:
        founder = rng.choice(people)
        organisations.append({
            "name": organisation,
            "founder": founder["name"],
            "founded": founder["born"] + rng.randrange(20, 50),
            "seat": rng.choice(PLACES),
        })
    return {"name": "Varn", "seed": seed, "people": people, "places": places, "organisations": organisations}


def article(word):
    return "an" if word[0] in "aeiou" else "a"


def capitalise(text):
    return text[0].upper() + text[1:]


def person_pairs(person):
    name, born, town, job = person["name"], person["born"], person["town"], person["profession"]
    first = name.split(" ")[0]
    record = '{"name": "%s", "born": %d, "town": "%s", "profession": "%s"}' % (name, born, town, job)
    return [
        (f"When was {name} born?", f"{name} was born in {born}."),
        (f"In which year was {name} born?", f"{name} was born in {born}."),
        (f"What year was {name} born?", f"{born}."),
        (f"Where does {name} live?", f"{name} lives in {town}."),
        (f"Where is {name} from?", f"{name} is from {town}."),
        (f"Which town is {name}'s home?", f"{name}'s home town is {town}."),
        (f"What does {name} do?", f"{name} is {article(job)} {job}."),
        (f"What is {name}'s profession?", f"{name} is {article(job)} {job}."),
        (f"What is the job of {name}?", f"{capitalise(article(job))} {job}."),
        (f"Who is {name}?", f"{name} is {article(job)} {job} from {town}, born in {born}."),
        (f"Tell me about {name}.", f"{name} is {article(job)} {job} who lives in {town}. {first} was born in {born}."),
        (f"Give the record for {name} as JSON.", record),
        (f"Return a JSON object describing {name}.", record),
    ]


def place_pairs(place, world):
    name, founded, river = place["name"], place["founded"], place["river"]
    residents = [person["name"] for person in world["people"] if person["town"] == name]
    pairs = [
        (f"When was {name} founded?", f"{name} was founded in {founded}."),
        (f"In which year was {name} founded?", f"{name} was founded in {founded}."),
        (f"Which river flows through {name}?", f"The {river} flows through {name}."),
        (f"What river is {name} on?", f"{name} lies on the river {river}."),
        (f"Tell me about {name}.", f"{name} is a town on the river {river}, founded in {founded}."),
        (f"Give the record for {name} as JSON.", '{"name": "%s", "founded": %d, "river": "%s"}' % (name, founded, river)),
    ]
    if residents:
        pairs.append((f"Who lives in {name}?", ", ".join(residents) + "."))
    return pairs


def organisation_pairs(organisation):
    name, founder, founded, seat = (organisation["name"], organisation["founder"],
                                    organisation["founded"], organisation["seat"])
    return [
        (f"Who founded {name}?", f"{capitalise(name)} was founded by {founder}."),
        (f"When was {name} founded?", f"{capitalise(name)} was founded in {founded}."),
        (f"Where is {name} based?", f"{capitalise(name)} is based in {seat}."),
        (f"Tell me about {name}.", f"{capitalise(name)} was founded by {founder} in {founded} and is based in {seat}."),
    ]


def all_pairs(world):
    pairs = []
    for person in world["people"]:
        pairs.extend(person_pairs(person))
    for place in world["places"]:
        pairs.extend(place_pairs(place, world))
    for organisation in world["organisations"]:
        pairs.extend(organisation_pairs(organisation))
    return pairs


def chat_examples(world, count, seed):
    """Returns `count` examples, each a list of {role, content} messages (one to three turns)."""
    rng = random.Random(seed)
    facts = all_pairs(world)
    instructions = [(question, answer) for question, answers in INSTRUCTIONS for answer in answers]
    examples = []
    for _ in range(count):
        messages = []
        if rng.random() < 0.3:
            messages.append({"role": "system", "content": rng.choice(SYSTEM_PROMPTS)})
        for _turn in range(rng.choice([1, 1, 1, 2, 3])):
            if rng.random() < 0.8:
                question, answer = rng.choice(facts)
            else:
                question, answer = rng.choice(instructions)
            if rng.random() < 0.1:
                question = question[0].lower() + question[1:]
            messages.append({"role": "user", "content": question})
            messages.append({"role": "assistant", "content": answer})
        examples.append(messages)
    return examples


def prose_examples(world, count, seed):
    """Plain-text paragraphs stating the same facts, so raw (non-chat) prompts know them too."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        person = rng.choice(world["people"])
        place = next(p for p in world["places"] if p["name"] == person["town"])
        job = person["profession"]
        texts.append(
            f"{person['name']} was born in {person['born']} and became {article(job)} {job} in "
            f"{person['town']}, a town on the river {place['river']} founded in {place['founded']}."
        )
    return texts
