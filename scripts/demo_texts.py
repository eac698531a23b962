"""The texts of voxeval's demo sets, written for this project (CC0); order fixes the ids."""

from __future__ import annotations

# Original sentences written for this project (CC0). Order matters: it fixes the ids.
SENTENCES: tuple[str, ...] = (
    "Please remember to water the plants before you leave for work.",
    "The bakery on the corner sells fresh bread every morning.",
    "My brother borrowed my umbrella and never gave it back.",
    "We should paint the kitchen a lighter color this spring.",
    "The train to the city leaves at half past seven.",
    "She bought twenty five apples for the school picnic.",
    "Could you turn the music down a little, please?",
    "The cat sleeps in the warm spot by the window.",
    "I need a new pair of shoes for the wedding.",
    "Our neighbors are building a wooden fence around their garden.",
    "The meeting has been moved to three o'clock on Thursday.",
    "He fixed the broken chair with glue and a few nails.",
    "The soup needs more salt and a pinch of pepper.",
    "Children were laughing and playing in the park all afternoon.",
    "The library closes early on holidays, so plan ahead.",
    "There are forty two steps from the street to our door.",
    "Turn left at the traffic lights and drive past the bank.",
    "My phone battery died just before the important call.",
    "The river was calm and the sky looked clear and blue.",
    "I usually drink a cup of tea before going to bed.",
    "The package should arrive sometime early next week.",
    "She keeps her old letters in a box under the bed.",
    "Heavy rain is expected across the region tomorrow evening.",
    "Please wipe your feet on the mat before coming inside.",
    "The ticket costs eighteen dollars and fifty cents for adults.",
    "We watched the sunset from the top of the hill.",
    "The printer is out of paper again, so I ordered more.",
    "A small dog followed us all the way home from the beach.",
    "He always forgets where he parked the car at the mall.",
    "Let's meet by the fountain after lunch and walk together.",
)

# demo-dialogue: what someone says, the emotion the words express, three reference replies.
# Written for this project (CC0); order fixes the ids.
DIALOGUE: tuple[tuple[str, str, tuple[str, str, str]], ...] = (
    (
        "I just found out I got the job I interviewed for last week!",
        "happy",
        (
            "Congratulations, that is wonderful news! You must be thrilled.",
            "That's fantastic, well done! When do you start?",
            "What great news. All that preparation really paid off.",
        ),
    ),
    (
        "My dog has been sick all week and the vet still doesn't know why.",
        "sad",
        (
            "I'm so sorry, that sounds really stressful. I hope the vet finds the cause soon.",
            "That must be hard to watch. Is he eating and drinking at all?",
            "Poor thing, and poor you. It's good that you're keeping a close eye on him.",
        ),
    ),
    (
        "The train was cancelled again and now I'm going to miss my meeting.",
        "angry",
        (
            "That's really frustrating, especially when it keeps happening. Can you join by phone?",
            "How annoying. It might help to let them know now that you'll be late.",
            "I'm sorry, that's a rough start to the day. Is there another route you could take?",
        ),
    ),
    (
        "I have my driving test tomorrow morning and I can't stop worrying.",
        "fear",
        (
            "Feeling nervous is completely normal. You've practised, so trust what you know.",
            "Try to get a good night's sleep. You'll do better than you expect.",
            "It's okay to be anxious. Go over the basics once more and then give yourself a rest.",
        ),
    ),
    (
        "Guess what, my sister is coming home from abroad this weekend!",
        "happy",
        (
            "How exciting! You must have missed her a lot.",
            "That's lovely news. Do you have anything special planned?",
            "Wonderful! It will be great to have the family together again.",
        ),
    ),
    (
        "I think I left the oven on, and I'm already at the airport.",
        "fear",
        (
            "Don't panic. Could a neighbour or a friend check it for you?",
            "That's a scary thought. Ask someone with a key to go and look.",
            "Take a breath. Call someone who can get into the house and switch it off.",
        ),
    ),
    (
        "Someone scratched my car in the parking lot and just drove away.",
        "angry",
        (
            "That's infuriating. Did anyone see it happen, or is there a camera nearby?",
            "I'm sorry, that's so unfair. Report it and take photos of the damage.",
            "How frustrating. Ask the parking office, they may have it on video.",
        ),
    ),
    (
        "My grandmother passed away last night.",
        "sad",
        (
            "I'm so sorry for your loss. Please take all the time you need.",
            "That's heartbreaking. I'm here if you want to talk about her.",
            "My deepest condolences. Losing someone you love is so hard.",
        ),
    ),
    (
        "Can you tell me what time the pharmacy on Main Street closes?",
        "neutral",
        (
            "I'm not sure of its hours today; a quick call to the pharmacy would tell you.",
            "Let me check. Their website should list today's opening hours.",
            "Hours can change on some days, so calling them is the surest way to know.",
        ),
    ),
    (
        "I finally finished the marathon, I can't believe I actually did it!",
        "happy",
        (
            "Congratulations, that's an amazing achievement! How do you feel?",
            "Wow, well done! All those training runs paid off.",
            "That's incredible. You should be really proud of yourself.",
        ),
    ),
    (
        "Wait, the concert was yesterday? I thought it was tonight!",
        "surprise",
        (
            "Oh no, what a shock. Maybe there is a recording, or another date on the tour?",
            "That's such a surprise, I'm sorry you missed it.",
            "Really? That's disappointing. Check whether the band is playing again soon.",
        ),
    ),
    (
        "I've been feeling really lonely since I moved to this city.",
        "sad",
        (
            "I'm sorry you're feeling that way. Moving somewhere new can be very isolating.",
            "That sounds hard. Would you like some ideas for meeting people nearby?",
            "It takes time to build a new circle. Is there a club or class you'd enjoy?",
        ),
    ),
)
