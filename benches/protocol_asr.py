# ruff: noqa: E501
"""One set of ASR predictions scored three ways: voxeval's default and the Open ASR Leaderboard's.

200 reference/hypothesis pairs written for voxeval in the styles of the leaderboard's sets
(read speech, meetings, earnings calls, voicemail, tech support): references as a human
transcriber writes them (punctuation, fillers, "e-mail", "B.B.C."), hypotheses as ASR systems
print them, with ordinary recognition errors mixed in. Prints a markdown table:

    .venv/bin/python benches/protocol_asr.py

Not a test: the numbers describe this set only.
"""

from __future__ import annotations

from voxeval.metrics import compute, get_metric

# fmt: off
PAIRS = """
He hoped there would be stew for dinner, turnips and carrots. | he hoped there would be stew for dinner turnips and carrots
The old man sat by the fire and told us a story. | the old man sat by the fire and told us the story
She walked slowly down the long grey corridor. | she walked slowly down the long gray corridor
It was the best of times, it was the worst of times. | it was the best of times it was the worst of time
The captain gave the order to lower the boats. | the captain gave the order to lower the boat
Mr. Thompson opened the letter with trembling hands. | mister thompson opened the letter with trembling hand
They travelled for twenty-one days across the desert. | they traveled for twenty one days across the desert
The river was wide and the current was strong. | the river was wide and the currant was strong
I have never seen such a beautiful garden. | i've never seen such a beautiful garden
Her favourite colour was a deep shade of blue. | her favorite color was a deep shade of blue
The children ran out into the snow, laughing. | the children ran out into the snow laughing
Nobody knew where the old map had come from. | nobody knew where the old man had come from
At last the ship came into the harbour. | at last the ship came into the harbor
We waited in the rain for nearly an hour. | we waited in the rain for nearly in hour
The king's men searched every house in the village. | the king's men searched every house in the village
There were three hundred and fifty soldiers on the hill. | there were 350 soldiers on the hill
She wrote the answer in her note book and closed it. | she wrote the answer in her notebook and closed it
The sun rose over the mountains at six o'clock. | the sun rose over the mountains at six o'clock
I shall not go any further tonight. | i shall not go any farther tonight
The wind howled through the broken windows. | the wind howled through the broken window
His voice was low and full of sorrow. | his voice was low and full of sorrow
The book lay open on the table where she had left it. | the book lay open on the table where she left it
They crossed the bridge just before midnight. | they crossed the bridge just before midnight
Do you think he will ever come back? | do you think he'll ever come back
All right, said the boy, I will do it. | all right said the boy i will do it
He found a little grey kitten under the stairs. | he found a little gray kitten under the stairs
The lamp flickered and went out. | the lamp flickered and went out
It is a long way to the sea from here. | it's a long way to the sea from here
The merchant counted his gold coins twice. | the merchant counted his gold coin twice
The horses were tired after the long ride. | the horses were tired after the long ride
A cold fog lay over the marshes. | a cold frog lay over the marshes
The professor looked up from his papers. | the professor looked up from his paper
I am afraid I cannot help you with that. | i am afraid i cannot help you with that
They built a fire on the beach and cooked fish. | they built a fire on the beach and cook fish
Sir Walter rode at the head of the column. | sir walter rode at the head of the column
The clock struck twelve and the guests departed. | the clock struck 12 and the guests departed
It rained every day for a week. | it rained everyday for a week
The letter was signed by Stephen Lewis. | the letter was signed by stephen lewis
Her eyes were full of tears. | her eyes were full of tears
The train left the station at half past seven. | the train left the station at half past seven
The bread was hard and the cheese was old. | the bread was hard and the cheese was cold
Down in the valley the bells were ringing. | down in the valley the bell was ringing
We must leave before it gets dark. | we must leave before it gets dark
Presently the carriage stopped before a tall iron gate. | presently the carriage stopped before a tall iron gate
The fisherman mended his nets by the light of the moon. | the fisherman mended his nest by the light of the moon
Beyond the hills lay a country none of them had seen. | beyond the hills lay a country none of them had seen
So, um, I think we should, uh, look at the budget first. | so i think we should look at the budget first
Yeah, I mean, the remote control is too big. | yeah i mean the remote control is too big
Mm-hmm. Okay, so what's next on the agenda? | okay so what's next on the agenda
I'll send everybody an e-mail after the meeting. | i'll send everybody an email after the meeting
Uh-huh, that's what I was thinking too. | that's what i was thinking too
We could, erm, put the buttons on the side. | we could put the buttons on the side
Okay. | ok
Right, so the, the marketing team wants it yellow. | right so the marketing team wants it yellow
Hmm, I'm not sure about that, to be honest. | i'm not sure about that to be honest
The wifi in this room keeps dropping. | the wi-fi in this room keeps dropping
Can you share your screen, please? | can you share your screen please
I think the battery life is the main issue. | i think the battery life is the main tissue
Is it going to be a touch screen or not? | is it going to be a touchscreen or not
We need to finish this by, like, Friday. | we need to finish this by friday
Okay, I see what you mean now. | okay i see what you mean now
The LCD screen adds about ten euros. | the lcd screen adds about 10 euros
Oh, I forgot to mention the deadline. | oh i forgot to mention that deadline
So who's taking notes today? | so who's taking notes today
Yeah, yeah, that makes sense. | yeah that makes sense
I'll put it on the whiteboard. | i'll put it on the whiteboard
Let's take a five-minute break. | let's take a five minute break
Um, do we have any data on that? | do we have any data on that
The users said they want it to be more fancy. | the users said they want it to be more fun see
I don't think that's a good idea. | i don't think that's a good idea
So the, uh, the rubber case costs extra. | so the rubber case costs extra
What about the voice recognition feature? | what about the voice recognition features
I, I kind of like the round design. | i kind of like the round design
Can we go back to the previous slide? | can we go back to the previous slide
It's, it's mostly young people who buy these. | it's mostly young people who buy these
Right, the kinetic battery is more expensive. | right the kinetic battery is more expensive
We should check with Katherine from finance. | we should check with catherine from finance
I'll follow up with John on Monday. | i'll follow up with jon on monday
The prototype should be ready by next week. | the prototype should be ready by next week
I've got another meeting at three. | i've got another meeting at three
Is that the final price? | is that the final prize
Yeah, twelve fifty per unit. | yeah 12.50 per unit
Okay, so, to sum up, we go with the spongy material. | okay so to sum up we go with the spongy material
The TV remote should have fewer buttons. | the tv remote should have less buttons
The speech recognition might not work with accents. | the speech recognition might not work with accent
I think the logo should be on the front. | i think the logo should be on the front
So that's why it broke. | so that's why it broke
Well, it depends on the budget really. | well it depends on the budget really
We could maybe add a, uh, a light. | we could maybe add a light
Let me check my calendar, one second. | let me check my calendar one second
And what colour was the last one? | and what color was the last one
No, no, I meant the other one. | no no i meant the other one
Alright, thanks everyone, see you tomorrow. | all right thanks everyone see you tomorrow
But the, erm, the scroll wheel feels cheap. | but the scroll wheel feels cheap
We had a look at the competitors' designs. | we had a look at the competitor's designs
Revenue for the quarter was four point two billion dollars. | revenue for the quarter was $4.2 billion
Our EBITDA margin improved by one hundred basis points. | our ebitda margin improved by 100 basis points
We expect capital expenditures of about three hundred million. | we expect capital expenditure of about 300 million
Operating income grew twelve percent year over year. | operating income grew 12% year-over-year
The CEO will now take your questions. | the ceo will now take your questions
Thank you, operator. Our next question comes from Sara Kim. | thank you operator our next question comes from sarah kim
Free cash flow was one point one billion in the quarter. | free cash flow was 1.1 billion in the quarter
We are reaffirming our full-year guidance. | we are reaffirming our full year guidance
Gross margin came in at forty-two point five percent. | gross margin came in at 42.5%
Our cloud business grew thirty percent. | our cloud business grew 13%
Yes, thanks for taking my question. | yes thanks for taking my questions
Could you talk a little bit about pricing in the U.S.? | could you talk a little bit about pricing in the us
The headwind from foreign exchange was about two percent. | the headwind from foreign exchange was about 2%
We repurchased five million shares during the quarter. | we repurchased 5 million shares during the quarter
Our e-commerce sales doubled compared to last year. | our e-commerce sales doubled compared to last year
Inventory levels are healthy heading into Q4. | inventory levels are healthy heading into q4
Sure. So on the second point, margins were flat. | sure so on the second point margins were flat
We opened forty new stores in the first half. | we opened 40 new stores in the first half
Net debt stands at two point three times EBITDA. | net debt stands at 2.3 times ebitda
I'll hand it over to our CFO, Michael Brown. | i'll hand it over to our cfo michael brown
Our data center segment was a record. | our data center segment was a record
That concludes our prepared remarks. | that concludes our prepared remarks
The dividend will be paid on March fifteenth. | the dividend will be paid on march 15th
Demand in Europe remained soft. | demand in europe remains soft
We see a lot of opportunity in health care. | we see a lot of opportunity in healthcare
Our R and D spend was about eleven percent of sales. | our r&d spend was about 11% of sales
We expect the deal to close in the second half. | we expect the deal to close in the second half
Adjusted earnings per share were one dollar and five cents. | adjusted earnings per share were $1.05
The order backlog is at an all-time high. | the order backlog is at an all time high
Um, can you give us some color on the guidance? | can you give us some color on the guidance
We hired about two thousand people this quarter. | we hired about 2000 people this quarter
Our subscription revenue is now seventy percent of the total. | our subscription revenue is now 70% of total
We launched the product in the U.K. and France. | we launched the product in the uk and france
Churn improved again, to one point eight percent. | churn improved again to 1.8%
Our next question is from the line of Mark Lee. | our next question is from the line of mark li
The synergies are tracking ahead of plan. | the synergies are tracking ahead of plan
Our balance sheet remains very strong. | our balance sheet remains very strong
Hi, this is Kathy from the dentist's office. | hi this is cathy from the dentist office
Your appointment is on Tuesday at quarter past ten. | your appointment is on tuesday at 10:15
Please call us back at five five five, oh one nine two. | please call us back at 555-0192
Hey, it's Rob, just checking in about the weekend. | hey it's rob just checking in about the weekend
The package will arrive between two and four p.m. | the package will arrive between 2 and 4 pm
Hi Mom, I'm at the airport, the flight's delayed. | hi mom i'm at the airport the flight is delayed
This is a reminder that your payment is due. | this is a reminder that your payment is due
Call me back when you get this, okay? | call me back when you get this ok
Your order number is A B seven two nine. | your order number is ab729
We'll be there around six thirty. | we'll be there around six thirty
Hey, um, can you pick up some milk on the way home? | hey can you pick up some milk on the way home
This is Doctor Patel's office calling about your results. | this is dr patel's office calling about your result
The meeting has been moved to nine a.m. tomorrow. | the meeting has been moved to 9 am tomorrow
Oh, and don't forget the tickets. | oh and don't forget the tickets
Hello, this is Alan from the bank. | hello this is allen from the bank
Please press one to confirm or two to cancel. | please press 1 to confirm or 2 to cancel
Sorry I missed you, I'll try again later. | sorry i missed you i'll try again later
It's ten to five and I'm still stuck in traffic. | it's ten to five and i'm still stuck in traffic
Hi, it's Lindsay, happy birthday! | hi it's lindsay happy birthday
The doctor can see you at eleven o'clock. | the doctor can see you at 11 o'clock
Hey, it's me, call me back, bye. | hey it's me call me back by
Your table for four is booked for eight on Saturday. | your table for four is booked for eight on saturday
Hi, I'm calling about the apartment listing. | hi i'm calling about the apartment listing
We need the forms back by Friday at noon. | we need the forms back by friday at new
Hey, just wanted to say thanks for yesterday. | hey just wanted to say thanks for yesterday
The plumber will come between one and three. | the plumber will come between one and three
Hi Zachary, it's coach Miller, practice is cancelled. | hi zachary it's coach miller practice is canceled
Your prescription is ready for pickup. | your prescription is ready for pick up
Please reply to confirm your attendance. | please reply to confirm your attendance
Hi, it's Dana from the leasing office. | hi it's donna from the leasing office
The car will be ready after four tomorrow. | the car will be ready after 4 tomorrow
Give me a ring when you land. | give me a ring when you land
Did you try turning the router off and on again? | did you try turning the router off and on again
My laptop won't connect to the Wi-Fi. | my laptop won't connect to the wifi
Okay, can you read me the serial number? | okay can you read me the serial number
Go to settings, then click on network. | go to settings then click on network
The error says DNS server not responding. | the error says dns server not responding
I reset my password but I never got the e-mail. | i reset my password but i never got the email
Can you log in to the website now? | can you log into the website now
It's a Windows ten machine, I think. | it's a windows 10 machine i think
The printer is showing a paper jam again. | the printer is showing a paper jam again
Let me escalate this to our second-line team. | let me escalate this to our second line team
Is the green light on the modem blinking? | is the green light on the modem blinking
I'm going to send you a link by email. | i'm going to send you a link by email
Please make sure your VPN is turned off. | please make sure your vpn is turned off
Hmm, that's strange, it worked yesterday. | that's strange it worked yesterday
The update should take about ten minutes. | the update should take about 10 minutes
I can see your device on our end now. | i can see your device on our end now
Can you plug in the USB cable? | can you plug in the usb cable
Okay, it's back online, thank you so much. | okay it's back online thank you so much
Your ticket number is four oh two seven. | your ticket number is 4027
We'll need to replace the hard drive. | we'll need to replace the hard drive
The screen just went black. | the screen just went blank
I've cleared the cache and cookies already. | i've cleared the cash and cookies already
Which browser are you using, Chrome or Firefox? | which browser are you using chrome or firefox
Please hold while I check the data base. | please hold while i check the database
Is the HDMI cable plugged in properly? | is the hdmi cable plugged in properly
OK, let's try a factory reset. | okay let's try a factory reset
The app keeps crashing when I upload a photo. | the app keeps crashing when i upload a photo
My account was charged twice this month. | my account was charged twice this month
I'll set up two-factor authentication for you. | i'll set up two factor authentication for you
Can you tell me the model of your phone? | can you tell me the model of your phone
Your refund will be processed within five business days. | your refund will be processed within 5 business days
The Bluetooth headset won't pair. | the bluetooth headset won't pair
The sound is really choppy on calls. | the sound is really choppy on call
We'll send a technician on Thursday morning. | we'll send a technician on thursday morning
Is there anything else I can help you with today? | is there anything else i can help you with today
Thanks, Megan, you've been really helpful. | thanks meghan you've been really helpful
""".strip().splitlines()
# fmt: on

OPTIONS = [
    ("voxeval default (= OASR until April 2026)", "whisper_english", "none"),
    ("OASR normaliser (since PR #142)", "oasr", "none"),
    ("OASR leaderboard path (+ compound merge)", "oasr", "merge"),
]


def main() -> None:
    """Score the pairs each way and print a markdown table."""
    refs, hyps = zip(*(line.split(" | ") for line in PAIRS), strict=True)
    print(f"{len(PAIRS)} pairs, one set of predictions, corpus WER (summed edits / words)\n")
    print("| scoring | normalizer | compounds | WER % | S | D | I | ref words | n |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    errors = []
    for label, normalizer, compounds in OPTIONS:
        r = compute("wer", hyps, refs, normalizer=normalizer, compounds=compounds, n_resamples=0)
        d = r.details
        print(
            f"| {label} | {normalizer} | {compounds} | {100 * r.value:.2f} | {d['substitutions']} "
            f"| {d['deletions']} | {d['insertions']} | {d['reference_words']} | {r.n} |"
        )
        stats = get_metric("wer").sample_stats(
            hyps, refs, normalizer=normalizer, compounds=compounds
        )
        errors.append(stats[:, :3].sum(axis=1))
    print()
    for i in (1, 2):  # each option against the one above it
        fewer = int((errors[i] < errors[i - 1]).sum())
        more = int((errors[i] > errors[i - 1]).sum())
        print(f"{OPTIONS[i][0]} vs the row above: {fewer} pairs with fewer errors, {more} more")
    print("\n| CER (compound merge is word-only) | normalizer | CER % | ref chars | n |")
    print("|---|---|---:|---:|---:|")
    for label, normalizer, _ in OPTIONS[:2]:
        r = compute("cer", hyps, refs, normalizer=normalizer, n_resamples=0)
        print(
            f"| {label} | {normalizer} | {100 * r.value:.2f} | {r.details['reference_characters']} | {r.n} |"
        )


if __name__ == "__main__":
    main()
